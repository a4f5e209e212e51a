"""In-memory fakes of the application's interfaces, for fast unit tests of the services."""

import asyncio
import datetime
from collections.abc import AsyncGenerator, Sequence
from types import TracebackType
from typing import Self

from chatbot.application.interfaces import (
    Gap,
    NotificationService,
    PubSubService,
    Task,
    TaskQueue,
    UnitOfWork,
    UnitOfWorkFactory,
)
from chatbot.domain.message import Message, MessageId, MessageRepository, UserId


class FakeMessageRepository(MessageRepository):
    def __init__(self, rows: dict[MessageId, Message]) -> None:
        self.rows = rows
        self.pending: dict[MessageId, Message] = {}
        self.removed: set[MessageId] = set()

    async def get(self, id: MessageId) -> Message | None:  # noqa: A002
        return self.rows.get(id)

    def add(self, message: Message) -> None:
        self.pending[message.id] = message

    async def get_user_messages(self, user_id: UserId) -> Sequence[Message]:
        mine = [m for m in self.rows.values() if m.user_id == user_id]
        return sorted(mine, key=lambda m: m.sent_at, reverse=True)

    async def remove_sent_before(self, cutoff: datetime.datetime) -> int:
        old = {i for i, m in self.rows.items() if m.sent_at < cutoff}
        self.removed |= old
        return len(old)


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, rows: dict[MessageId, Message], log: list[str]) -> None:
        self.rows = rows
        self.log = log
        self.messages: FakeMessageRepository = FakeMessageRepository(rows)
        self.committed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.committed:
            await self.rollback()

    async def commit(self) -> None:
        self.rows.update(self.messages.pending)
        for message_id in self.messages.removed:
            self.rows.pop(message_id, None)
        self.committed = True
        self.log.append("commit")

    async def rollback(self) -> None:
        self.messages.pending.clear()
        self.log.append("rollback")


class FakeUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self) -> None:
        self.rows: dict[MessageId, Message] = {}
        self.log: list[str] = []

    def create(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.rows, self.log)


class FakeTaskQueue(TaskQueue):
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.tasks: list[Task] = []

    async def enqueue(self, task: Task, *, within: UnitOfWork | None = None) -> None:
        self.tasks.append(task)
        self.log.append(f"enqueue {type(task).__name__}{' within' if within else ''}")


class FakePubSub(PubSubService):
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.queues: dict[str, list[asyncio.Queue[str | Gap]]] = {}

    async def publish(self, channel: str, message: str) -> None:
        self.log.append(f"publish {channel}")
        for queue in self.queues.get(channel, []):
            queue.put_nowait(message)

    def inject(self, channel: str, event: str | Gap) -> None:
        for queue in self.queues.get(channel, []):
            queue.put_nowait(event)

    async def subscribe(self, channel: str) -> AsyncGenerator[str | Gap]:
        queue: asyncio.Queue[str | Gap] = asyncio.Queue()
        self.queues.setdefault(channel, []).append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self.queues[channel].remove(queue)


class FakeNotificationService(NotificationService):
    def __init__(self) -> None:
        self.welcomed: list[str] = []

    async def send_welcome_message(self, email: str) -> None:
        self.welcomed.append(email)
