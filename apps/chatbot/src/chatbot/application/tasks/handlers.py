"""Handlers of the background tasks; the worker resolves them from the container per task."""

import datetime

from chatbot.application.interfaces import TaskAttempt
from chatbot.application.services.message_service import MessageService
from chatbot.application.services.user_service import UserService

from .definitions import PruneOldConversationsTask, ReplyToConversationTask, SendWelcomeEmailTask


class ReplyToConversationTaskHandler:
    def __init__(self, message_service: MessageService, attempt: TaskAttempt) -> None:
        self.message_service = message_service
        self.attempt = attempt

    async def handle(self, task: ReplyToConversationTask) -> None:
        await self.message_service.reply_to_user_latest_message(
            task.user_id, last_attempt=self.attempt.is_last
        )


class SendWelcomeEmailTaskHandler:
    def __init__(self, user_service: UserService) -> None:
        self.user_service = user_service

    async def handle(self, task: SendWelcomeEmailTask) -> None:
        await self.user_service.deliver_welcome_message(task.email)


class PruneOldConversationsTaskHandler:
    def __init__(self, message_service: MessageService) -> None:
        self.message_service = message_service

    async def handle(self, task: PruneOldConversationsTask) -> None:
        await self.message_service.prune_messages_older_than(
            datetime.timedelta(days=task.max_age_days)
        )
