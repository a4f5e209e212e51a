"""MessageService on in-memory fakes: storing, replying, subscribing, pruning."""

import asyncio
import contextlib
import datetime
import uuid
from collections.abc import Sequence

import pytest
from chatbot_fakes import FakePubSub, FakeTaskQueue, FakeUnitOfWorkFactory

from chatbot.application.dtos.message import Notice
from chatbot.application.interfaces import GAP, TaskAttempt
from chatbot.application.services.message_service import (
    BOT_GAVE_UP,
    BOT_UNAVAILABLE,
    MessageService,
)
from chatbot.application.tasks.definitions import ReplyToConversationTask
from chatbot.application.tasks.handlers import ReplyToConversationTaskHandler
from chatbot.domain.chatbot import Chatbot, ChatbotUnavailableError
from chatbot.domain.message import BotMessage, Message, MessageId, UserMessage

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)


class EchoBot(Chatbot):
    async def reply_to_conversation(self, conversation: Sequence[Message]) -> BotMessage:
        latest = conversation[0]
        return BotMessage(
            id=MessageId(uuid.uuid4()),
            user_id=latest.user_id,
            content=f"echo: {latest.content}",
            sent_at=latest.sent_at + datetime.timedelta(seconds=1),
        )


class ServiceWorld:
    def __init__(self) -> None:
        self.uows = FakeUnitOfWorkFactory()
        self.queue = FakeTaskQueue(self.uows.log)
        self.pubsub = FakePubSub(self.uows.log)
        self.service = MessageService(self.uows, EchoBot(), self.queue, self.pubsub)


@pytest.fixture
def world() -> ServiceWorld:
    return ServiceWorld()


class TestSendUserMessage:
    async def test_message_is_stored_and_reply_queued_in_one_transaction(
        self, world: ServiceWorld
    ) -> None:
        """The reply task is enqueued inside the unit of work, before its commit, then published."""
        user, message = uuid.uuid4(), uuid.uuid4()
        await world.service.send_user_message(user, message, "hello", NOW)
        assert world.uows.log == [
            "enqueue ReplyToConversationTask within",
            "commit",
            f"publish user:{user}:messages",
        ]
        assert world.queue.tasks == [ReplyToConversationTask(user)]
        conversation = await world.service.get_messages_for_conversation(user)
        assert [(m.id, m.content, m.is_from_bot) for m in conversation] == [
            (message, "hello", False)
        ]

    async def test_blank_message_is_refused_and_nothing_is_queued(
        self, world: ServiceWorld
    ) -> None:
        """A blank message raises a clear error and leaves no task or row behind."""
        with pytest.raises(ValueError, match="needs some text"):
            await world.service.send_user_message(uuid.uuid4(), uuid.uuid4(), "   ", NOW)
        assert world.queue.tasks == []
        assert world.uows.rows == {}


class TestReply:
    async def test_bot_replies_to_latest_user_message_once(self, world: ServiceWorld) -> None:
        """A duplicated reply task does not make the bot answer twice."""
        user = uuid.uuid4()
        await world.service.send_user_message(user, uuid.uuid4(), "ping", NOW)
        await world.service.reply_to_user_latest_message(user)
        await world.service.reply_to_user_latest_message(user)
        conversation = await world.service.get_messages_for_conversation(user)
        assert [(m.content, m.is_from_bot) for m in conversation] == [
            ("echo: ping", True),
            ("ping", False),
        ]


class TestSubscribe:
    async def test_subscriber_receives_published_messages(self, world: ServiceWorld) -> None:
        """Each published id arrives as the message's DTO."""
        user = uuid.uuid4()
        received = []

        async def consume() -> None:
            messages = world.service.subscribe_to_user_messages(user)
            async with contextlib.aclosing(messages):
                async for dto in messages:
                    received.append(dto.content)
                    if len(received) == 2:
                        return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        now = datetime.datetime.now(datetime.UTC)
        await world.service.send_user_message(user, uuid.uuid4(), "one", now)
        await world.service.reply_to_user_latest_message(user)
        await asyncio.wait_for(consumer, 1)
        assert received == ["one", "echo: one"]
        assert world.pubsub.queues[MessageService.get_channel_name(user)] == [], "unsubscribed"

    async def test_gap_resends_messages_missed_since_last_delivery(
        self, world: ServiceWorld
    ) -> None:
        """After a gap the conversation is re-read: missed messages arrive, none twice."""
        user = uuid.uuid4()
        channel = MessageService.get_channel_name(user)
        received: list[str] = []

        async def consume() -> None:
            async for dto in world.service.subscribe_to_user_messages(user):
                received.append(dto.content)
                if len(received) == 3:
                    return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        now = datetime.datetime.now(datetime.UTC)
        await world.service.send_user_message(user, uuid.uuid4(), "seen", now)
        await asyncio.sleep(0)
        # Two messages committed while the pub/sub connection was down: no notification came.
        for offset, text in ((1, "lost one"), (2, "lost two")):
            uow = world.uows.create()
            uow.messages.add(
                UserMessage(
                    id=MessageId(uuid.uuid4()),
                    user_id=world.uows.rows[next(iter(world.uows.rows))].user_id,
                    content=text,
                    sent_at=now + datetime.timedelta(seconds=offset),
                )
            )
            await uow.commit()
        await asyncio.sleep(0)
        world.pubsub.inject(channel, GAP)
        await asyncio.wait_for(consumer, 1)
        assert received == ["seen", "lost one", "lost two"]

    async def test_unknown_or_malformed_ids_are_skipped(self, world: ServiceWorld) -> None:
        """An id whose row is gone, or that is not an id, is logged and skipped."""
        user = uuid.uuid4()
        channel = MessageService.get_channel_name(user)
        received: list[str] = []

        async def consume() -> None:
            async for dto in world.service.subscribe_to_user_messages(user):
                received.append(dto.content)
                return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        world.pubsub.inject(channel, "not-a-uuid")
        world.pubsub.inject(channel, str(uuid.uuid4()))
        await world.service.send_user_message(
            user, uuid.uuid4(), "real", datetime.datetime.now(datetime.UTC)
        )
        await asyncio.wait_for(consumer, 1)
        assert received == ["real"]


class TestPrune:
    async def test_old_messages_are_removed(self, world: ServiceWorld) -> None:
        """Messages older than the maximum age go; newer ones stay."""
        user = uuid.uuid4()
        now = datetime.datetime.now(datetime.UTC)
        await world.service.send_user_message(
            user, uuid.uuid4(), "old", now - datetime.timedelta(days=40)
        )
        await world.service.send_user_message(user, uuid.uuid4(), "new", now)
        removed = await world.service.prune_messages_older_than(datetime.timedelta(days=30))
        assert removed == 1
        conversation = await world.service.get_messages_for_conversation(user)
        assert [m.content for m in conversation] == ["new"]


class BrokenBot(Chatbot):
    async def reply_to_conversation(self, conversation: Sequence[Message]) -> BotMessage:  # noqa: ARG002 - the interface's signature
        raise ChatbotUnavailableError("the API is down")


class TestBotFailure:
    @pytest.mark.parametrize(
        ("attempt", "notice"),
        [
            (TaskAttempt(number=1, is_last=False), BOT_UNAVAILABLE),
            (TaskAttempt(number=4, is_last=False), BOT_UNAVAILABLE),
            (TaskAttempt(number=5, is_last=True), BOT_GAVE_UP),
        ],
    )
    async def test_failure_tells_the_user_whether_the_bot_tries_again(
        self, world: ServiceWorld, attempt: TaskAttempt, notice: str
    ) -> None:
        """A failing bot raises (so the queue retries) after a notice reached the user; the
        notice of the last attempt says that no reply is coming."""
        world.service.chatbot = BrokenBot()
        user = uuid.uuid4()
        received: list[object] = []

        async def consume() -> None:
            messages = world.service.subscribe_to_user_messages(user)
            async with contextlib.aclosing(messages):
                async for item in messages:
                    received.append(item)
                    if isinstance(item, Notice):
                        return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        await world.service.send_user_message(
            user, uuid.uuid4(), "hi", datetime.datetime.now(datetime.UTC)
        )
        handler = ReplyToConversationTaskHandler(world.service, attempt)
        with pytest.raises(ChatbotUnavailableError):
            await handler.handle(ReplyToConversationTask(user))
        await asyncio.wait_for(consumer, 1)
        assert received[-1] == Notice(notice)
        conversation = await world.service.get_messages_for_conversation(user)
        assert [m.content for m in conversation] == ["hi"], "no bot message was stored"
