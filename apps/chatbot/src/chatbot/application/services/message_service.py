import contextlib
import datetime
import logging
import uuid
from collections.abc import AsyncIterator, Sequence

from chatbot.application.assemblers import MessageAssembler
from chatbot.application.dtos.message import Message as MessageDTO
from chatbot.application.dtos.message import Notice
from chatbot.application.interfaces import (
    Gap,
    PubSubService,
    TaskQueue,
    UnitOfWorkFactory,
)
from chatbot.application.tasks.definitions import ReplyToConversationTask
from chatbot.domain.chatbot import Chatbot, ChatbotUnavailableError
from chatbot.domain.message import MessageId, UserId, UserMessage

logger = logging.getLogger(__name__)

# Pub/sub carries message ids; a notice for the user travels with this prefix instead.
NOTICE_PREFIX = "notice:"
BOT_UNAVAILABLE = (
    "The bot could not answer just now. Your message is saved; the bot retries a few times."
)
BOT_GAVE_UP = (
    "The bot could not answer and has stopped trying. Your message is saved; "
    "send another one to ask again."
)


class MessageService:
    def __init__(
        self,
        unit_of_work_factory: UnitOfWorkFactory,
        chatbot: Chatbot,
        task_queue: TaskQueue,
        pub_sub: PubSubService,
    ) -> None:
        self.unit_of_work_factory = unit_of_work_factory
        self.chatbot = chatbot
        self.task_queue = task_queue
        self.pub_sub = pub_sub

    async def get_messages_for_conversation(self, user_id: uuid.UUID) -> Sequence[MessageDTO]:
        """The user's conversation, newest message first."""
        async with self.unit_of_work_factory.create() as uow:
            messages = await uow.messages.get_user_messages(UserId(user_id))
            return [MessageAssembler.assemble_dto(message) for message in messages]

    async def send_user_message(
        self,
        user_id: uuid.UUID,
        message_id: uuid.UUID,
        content: str,
        sent_at: datetime.datetime,
    ) -> None:
        """Store the user's message and queue the bot's reply in one transaction."""
        async with self.unit_of_work_factory.create() as uow:
            message = UserMessage(
                id=MessageId(message_id),
                user_id=UserId(user_id),
                content=content,
                sent_at=sent_at,
            )
            uow.messages.add(message)
            # In the same transaction: the reply is queued if and only if the message is stored.
            await self.task_queue.enqueue(ReplyToConversationTask(user_id), within=uow)
            await uow.commit()
        # After the commit, so a subscriber that reads the id finds the row.
        await self.pub_sub.publish(self.get_channel_name(user_id), str(message_id))

    async def reply_to_user_latest_message(
        self, user_id: uuid.UUID, *, last_attempt: bool = False
    ) -> None:
        """Answer the user's newest message; `last_attempt` says no retry follows a failure."""
        async with self.unit_of_work_factory.create() as uow:
            messages = await uow.messages.get_user_messages(UserId(user_id))
            if not messages or not isinstance(messages[0], UserMessage):
                return  # already answered (a retried or duplicated task): reply only once
            try:
                reply = await self.chatbot.reply_to_conversation(messages)
            except ChatbotUnavailableError:
                # The task queue retries the reply; meanwhile the user hears why it is late,
                # or, after the last attempt, that no reply is coming.
                notice = BOT_GAVE_UP if last_attempt else BOT_UNAVAILABLE
                await self.pub_sub.publish(self.get_channel_name(user_id), NOTICE_PREFIX + notice)
                raise
            uow.messages.add(reply)
            await uow.commit()
        await self.pub_sub.publish(self.get_channel_name(user_id), str(reply.id.value))

    async def subscribe_to_user_messages(
        self, user_id: uuid.UUID, since: datetime.datetime | None = None
    ) -> AsyncIterator[MessageDTO | Notice]:
        """New messages of the user's conversation as they arrive, oldest first, and notices.

        `since` is the time of the newest message the client already shows. When the
        pub/sub connection reports a gap, the conversation is read again and the messages
        newer than the last one delivered are sent, so nothing is skipped or sent twice.
        """
        last_seen = since or datetime.datetime.now(datetime.UTC)
        delivered: set[uuid.UUID] = set()
        events = self.pub_sub.subscribe(self.get_channel_name(user_id))
        async with contextlib.aclosing(events):  # unsubscribe as soon as the consumer stops
            async for event in events:
                if isinstance(event, Gap):
                    missed = await self._messages_after(user_id, last_seen)
                elif event.startswith(NOTICE_PREFIX):
                    yield Notice(event.removeprefix(NOTICE_PREFIX))
                    continue
                else:
                    missed = await self._message(event)
                for dto in missed:
                    if dto.id in delivered:
                        continue
                    delivered.add(dto.id)
                    last_seen = max(last_seen, dto.sent_at)
                    yield dto

    async def _message(self, message_id: str) -> list[MessageDTO]:
        try:
            id_ = MessageId(uuid.UUID(message_id))
        except ValueError:
            logger.warning("ignoring a malformed message id on pub/sub: %r", message_id)
            return []
        async with self.unit_of_work_factory.create() as uow:
            message = await uow.messages.get(id_)
        if message is None:
            logger.warning("message %s was published but no longer exists", message_id)
            return []
        return [MessageAssembler.assemble_dto(message)]

    async def _messages_after(
        self, user_id: uuid.UUID, after: datetime.datetime
    ) -> list[MessageDTO]:
        conversation = await self.get_messages_for_conversation(user_id)
        return [m for m in reversed(conversation) if m.sent_at > after]

    async def prune_messages_older_than(self, max_age: datetime.timedelta) -> int:
        """Remove messages sent longer ago than `max_age`; returns how many were removed."""
        cutoff = datetime.datetime.now(datetime.UTC) - max_age
        async with self.unit_of_work_factory.create() as uow:
            removed = await uow.messages.remove_sent_before(cutoff)
            await uow.commit()
        logger.info("pruned %d messages sent before %s", removed, cutoff.isoformat())
        return removed

    @staticmethod
    def get_channel_name(user_id: uuid.UUID) -> str:
        return f"user:{user_id}:messages"
