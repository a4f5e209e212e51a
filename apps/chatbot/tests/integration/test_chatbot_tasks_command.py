"""`chatbot tasks ...` runs scaffold-tasks' admin commands on the chatbot's own queue."""

import asyncio
import datetime
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chatbot.__main__ import app, apply_migrations
from chatbot.application.services.message_service import MessageService
from chatbot.bootstrap import bootstrap
from chatbot.settings import Settings


async def test_tasks_list_shows_the_queued_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message queues `chat.reply`; `chatbot tasks list` on the same database lists it."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings()
    await apply_migrations(settings)
    container = bootstrap(settings)
    try:
        service = await container.aresolve(MessageService)
        now = datetime.datetime.now(datetime.UTC)
        await service.send_user_message(uuid.uuid4(), uuid.uuid4(), "hello", now)
    finally:
        await container.aclose()

    result = await _invoke(["tasks", "list", "--state", "queued", "--json"])
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [task["name"] for task in listed] == ["chat.reply"]

    result = await _invoke(["tasks", "show", "not-a-task-id"])
    assert result.exit_code == 2
    assert "'not-a-task-id' is not a task id" in result.output


async def _invoke(args: list[str]) -> Result:
    # The command runs its own event loop, so it runs in a thread without one.
    return await asyncio.to_thread(CliRunner().invoke, app, args)
