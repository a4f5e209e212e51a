"""The worker's scope gives the reply handler its attempt, as bootstrap wires it."""

import uuid
from pathlib import Path

import pytest

from chatbot.__main__ import apply_migrations
from chatbot.application.interfaces import TaskAttempt
from chatbot.application.tasks.handlers import ReplyToConversationTaskHandler
from chatbot.bootstrap import bootstrap
from chatbot.settings import Settings
from scaffold.tasks import ContainerResolver, TaskContext


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        (1, TaskAttempt(number=1, is_last=False)),
        (4, TaskAttempt(number=4, is_last=False)),
        (5, TaskAttempt(number=5, is_last=True)),
    ],
)
async def test_the_reply_handler_learns_its_attempt_from_the_worker(
    tmp_path: Path, attempt: int, expected: TaskAttempt
) -> None:
    """Resolved the way the worker resolves it, the handler holds the attempt in progress."""
    settings = Settings(data_dir=tmp_path, mail_url="memory://")
    await apply_migrations(settings)
    container = bootstrap(settings)
    await container.init()
    try:
        resolver = ContainerResolver(container)
        context = TaskContext(
            task_id=uuid.uuid4(),
            task_name="chat.reply",
            queue="default",
            attempt=attempt,
            max_attempts=5,
            worker_id="test",
        )
        async with resolver(ReplyToConversationTaskHandler, context) as handler:
            assert handler.attempt == expected
    finally:
        await container.aclose()
