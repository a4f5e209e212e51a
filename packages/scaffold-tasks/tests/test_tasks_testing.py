"""The in-memory queue for users' unit tests, and choosing a backend by URL."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from scaffold.tasks import (
    InMemoryBackend,
    InMemoryTaskQueue,
    PostgresBackend,
    RetryPolicy,
    SqliteBackend,
    Task,
    TaskQueue,
    TaskRegistry,
    backend_from_url,
)


@dataclasses.dataclass(frozen=True)
class SendWelcomeEmail(Task, name="test.welcome-email"):
    email: str


class Mailer:
    def __init__(self) -> None:
        self.sent: list[str] = []


class SendWelcomeEmailHandler:
    mailer = Mailer()

    async def handle(self, task: SendWelcomeEmail) -> None:
        if task.email.endswith("@invalid"):
            raise ValueError(f"cannot deliver to {task.email}")
        SendWelcomeEmailHandler.mailer.sent.append(task.email)


class UserService:
    """Application code under test: it only knows the queue."""

    def __init__(self, queue: TaskQueue) -> None:
        self.queue = queue

    async def sign_up(self, email: str) -> None:
        await self.queue.enqueue(SendWelcomeEmail(email))


@pytest.fixture
def welcome_registry() -> TaskRegistry:
    SendWelcomeEmailHandler.mailer = Mailer()
    registry = TaskRegistry()
    registry.register(
        SendWelcomeEmail, SendWelcomeEmailHandler, max_attempts=2, retry=RetryPolicy(0, jitter=0)
    )
    return registry


class TestInMemoryTaskQueue:
    async def test_enqueued_tasks_are_visible_as_objects(self, welcome_registry: TaskRegistry):
        """A unit test sees what the service enqueued, as task objects, in order."""
        queue = InMemoryTaskQueue(welcome_registry)
        await UserService(queue).sign_up("ada@example.com")
        await UserService(queue).sign_up("grace@example.com")
        assert queue.enqueued() == [
            SendWelcomeEmail("ada@example.com"),
            SendWelcomeEmail("grace@example.com"),
        ]
        assert queue.pending() == queue.enqueued()

    async def test_run_pending_runs_them_through_a_worker(self, welcome_registry: TaskRegistry):
        """run_pending executes the due tasks with retries and dead letters, like production."""
        queue = InMemoryTaskQueue(welcome_registry)
        await UserService(queue).sign_up("ada@example.com")
        await UserService(queue).sign_up("bounce@invalid")
        counters = await queue.run_pending()
        assert SendWelcomeEmailHandler.mailer.sent == ["ada@example.com"]
        assert (counters.succeeded, counters.retried, counters.dead_lettered) == (1, 1, 1)
        assert queue.pending() == []
        assert queue.dead() == [SendWelcomeEmail("bounce@invalid")]

    async def test_clock_controls_scheduled_tasks(self, welcome_registry: TaskRegistry):
        """With a clock of the test's own, a delayed task runs once the clock passes its time."""
        now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
        queue = InMemoryTaskQueue(welcome_registry, clock=lambda: now)
        await queue.enqueue(SendWelcomeEmail("later@example.com"), delay=3600)
        await queue.run_pending()
        assert SendWelcomeEmailHandler.mailer.sent == []
        now += datetime.timedelta(hours=1)
        await queue.run_pending()
        assert SendWelcomeEmailHandler.mailer.sent == ["later@example.com"]

    async def test_payloads_are_really_serialised(self, welcome_registry: TaskRegistry):
        """The fake stores JSON like the real backends: a wrong field type fails here too."""
        queue = InMemoryTaskQueue(welcome_registry)
        with pytest.raises(
            TypeError, match=r"(?s)cannot store task 'test.welcome-email'.*field_name='email'"
        ):
            await queue.enqueue(SendWelcomeEmail(email=42))  # type: ignore[arg-type]
        assert queue.enqueued() == []


class TestBackendFromUrl:
    def test_each_scheme_picks_its_backend(self, tmp_path: Path):
        """postgresql://, sqlite:/// and memory:// pick the matching backend."""
        assert isinstance(backend_from_url("postgresql://u@localhost/db"), PostgresBackend)
        assert isinstance(backend_from_url("postgresql+psycopg://u@h/db"), PostgresBackend)
        sqlite = backend_from_url(f"sqlite:///{tmp_path}/x.db")
        assert isinstance(sqlite, SqliteBackend)
        assert sqlite.path == f"{tmp_path}/x.db"
        assert isinstance(backend_from_url("sqlite+aiosqlite:///rel.db"), SqliteBackend)
        assert isinstance(backend_from_url("memory://"), InMemoryBackend)

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("mysql://localhost/db", "no task queue backend for 'mysql://localhost/db'"),
            ("sqlite://", "names no file"),
            ("sqlite:///:memory:", "names no file"),
        ],
    )
    def test_unusable_urls_are_refused(self, url: str, message: str):
        """A URL without a usable backend or file is refused with the reason."""
        with pytest.raises(ValueError, match=message):
            backend_from_url(url)
