"""The chatbot's SQL persistence and task queue together, on SQLite and on PostgreSQL.

The same tests run on both databases: migrations create the schema, the repository maps
messages both ways, and a user's message and its reply task commit together or not at all.
"""

import datetime
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatbot.__main__ import apply_migrations
from chatbot.application.interfaces import TaskQueue, UnitOfWorkFactory
from chatbot.application.services.message_service import MessageService
from chatbot.application.tasks.definitions import ReplyToConversationTask
from chatbot.bootstrap import bootstrap
from chatbot.domain.message import BotMessage, MessageId, UserId, UserMessage
from chatbot.settings import Settings
from scaffold.di import Container
from scaffold.tasks import TaskQueue as DurableTaskQueue

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def container(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Container]:
    """The app's real container on a migrated database of the given kind."""
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path, mail_url="memory://")
    else:
        url = request.getfixturevalue("fresh_postgres_url")
        settings = Settings(data_dir=tmp_path, database_url=url, mail_url="memory://")
    await apply_migrations(settings)
    container = bootstrap(settings)
    await container.init()
    try:
        yield container
    finally:
        await container.aclose()


def user_message(user: UserId, text: str, at: datetime.datetime) -> UserMessage:
    return UserMessage(id=MessageId(uuid.uuid4()), user_id=user, content=text, sent_at=at)


async def test_messages_round_trip_newest_first(container: Container) -> None:
    """Stored messages come back as the right kind, newest first, with aware UTC times."""
    uows = await container.aresolve(UnitOfWorkFactory)
    user = UserId(uuid.uuid4())
    async with uows.create() as uow:
        uow.messages.add(user_message(user, "first", NOW))
        uow.messages.add(
            BotMessage(
                id=MessageId(uuid.uuid4()),
                user_id=user,
                content="second <b>",
                sent_at=NOW + datetime.timedelta(seconds=1),
            )
        )
        await uow.commit()
    async with uows.create() as uow:
        conversation = await uow.messages.get_user_messages(user)
        same = await uow.messages.get(conversation[0].id)
    assert [(type(m).__name__, m.content) for m in conversation] == [
        ("BotMessage", "second <b>"),
        ("UserMessage", "first"),
    ]
    assert conversation[1].sent_at == NOW
    assert conversation[1].sent_at.tzinfo is not None
    assert same is conversation[0], "one object per id within a unit of work"


async def test_an_error_before_commit_leaves_nothing(container: Container) -> None:
    """A unit of work that raises rolls back: no message is stored."""
    uows = await container.aresolve(UnitOfWorkFactory)
    user = UserId(uuid.uuid4())

    async def fail_midway() -> None:
        async with uows.create() as uow:
            uow.messages.add(user_message(user, "lost", NOW))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_midway()
    async with uows.create() as uow:
        assert await uow.messages.get_user_messages(user) == []


async def test_message_and_reply_task_commit_together(container: Container) -> None:
    """Sending stores the message and queues its reply task in the same transaction."""
    service = await container.aresolve(MessageService)
    queue = await container.aresolve(DurableTaskQueue)
    user = uuid.uuid4()
    await service.send_user_message(user, uuid.uuid4(), "hello", NOW)
    tasks = [t for t in await queue.admin.list() if t.name == "chat.reply"]
    assert [json.loads(t.payload)["user_id"] for t in tasks] == [str(user)]


async def test_rolled_back_message_queues_no_task(container: Container) -> None:
    """When the unit of work rolls back, the task written in it is gone too."""
    uows = await container.aresolve(UnitOfWorkFactory)
    task_queue = await container.aresolve(TaskQueue)
    queue = await container.aresolve(DurableTaskQueue)
    user = uuid.uuid4()

    async def fail_after_enqueue() -> None:
        async with uows.create() as uow:
            uow.messages.add(user_message(UserId(user), "doomed", NOW))
            await task_queue.enqueue(ReplyToConversationTask(user), within=uow)
            raise RuntimeError("after enqueue")

    with pytest.raises(RuntimeError, match="after enqueue"):
        await fail_after_enqueue()
    payloads = [json.loads(t.payload) for t in await queue.admin.list()]
    assert {"user_id": str(user)} not in payloads


async def test_pruning_removes_only_old_messages(container: Container) -> None:
    """The nightly clean-up deletes messages older than the limit and keeps the rest."""
    service = await container.aresolve(MessageService)
    user = uuid.uuid4()
    await service.send_user_message(user, uuid.uuid4(), "ancient", NOW - datetime.timedelta(90))
    await service.send_user_message(user, uuid.uuid4(), "recent", NOW)
    await service.prune_messages_older_than(datetime.timedelta(days=30))
    remaining = await service.get_messages_for_conversation(user)
    assert [m.content for m in remaining] == ["recent"]
