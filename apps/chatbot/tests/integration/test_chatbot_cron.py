"""The nightly clean-up runs from the cron schedule, through the queue, into the database."""

import asyncio
import datetime
import uuid
from pathlib import Path

from chatbot.__main__ import apply_migrations
from chatbot.application.services.message_service import MessageService
from chatbot.bootstrap import bootstrap, create_worker, schedules
from chatbot.settings import Settings
from scaffold.tasks import TaskQueue as DurableTaskQueue


async def until_pruned(service: MessageService, user: uuid.UUID) -> None:
    while True:
        contents = [m.content for m in await service.get_messages_for_conversation(user)]
        if "new" in contents and "old" not in contents:
            return
        await asyncio.sleep(0.1)


def test_the_prune_schedule_is_nightly_by_default() -> None:
    """Out of the box the clean-up fires at 03:00 UTC and keeps 30 days of messages."""
    (schedule,) = schedules(Settings())
    assert (schedule.name, schedule.expression, schedule.timezone) == (
        "chat.prune-nightly",
        "0 3 * * *",
        "UTC",
    )
    assert schedule.task.max_age_days == 30  # type: ignore[attr-defined]


async def test_a_due_tick_prunes_old_messages(tmp_path: Path) -> None:
    """With a schedule due every second, the worker's scheduler removes the old messages."""
    settings = Settings(data_dir=tmp_path, mail_url="memory://", prune_schedule="* * * * * *")
    await apply_migrations(settings)
    container = bootstrap(settings)
    await container.init()
    try:
        service = await container.aresolve(MessageService)
        user = uuid.uuid4()
        now = datetime.datetime.now(datetime.UTC)
        await service.send_user_message(user, uuid.uuid4(), "old", now - datetime.timedelta(60))
        await service.send_user_message(user, uuid.uuid4(), "new", now)
        queue = await container.aresolve(DurableTaskQueue)
        worker = create_worker(container, settings, queue)
        async with worker.running():
            async with asyncio.timeout(20):
                await until_pruned(service, user)
        pruned = [t for t in await queue.admin.list("done") if t.name == "chat.prune"]
        assert pruned, "the clean-up ran as a queued task"
    finally:
        await container.aclose()
