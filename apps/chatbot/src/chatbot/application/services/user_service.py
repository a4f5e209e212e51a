import logging

from chatbot.application.interfaces import NotificationService, TaskQueue
from chatbot.application.tasks.definitions import SendWelcomeEmailTask

logger = logging.getLogger(__name__)


class UserService:
    def __init__(self, notification_service: NotificationService, task_queue: TaskQueue) -> None:
        self.notification_service = notification_service
        self.task_queue = task_queue

    async def send_welcome_message(self, email: str) -> None:
        """Queue the welcome mail: it is sent in the background, and retried if it fails."""
        await self.task_queue.enqueue(SendWelcomeEmailTask(email=email))

    async def deliver_welcome_message(self, email: str) -> None:
        await self.notification_service.send_welcome_message(email)
        logger.info("welcome mail sent to %s", email)
