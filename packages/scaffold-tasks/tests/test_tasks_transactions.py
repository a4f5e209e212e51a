"""Transactional enqueue: the task exists if and only if the caller's transaction commits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import aiosqlite
import psycopg
import pytest

from scaffold.tasks import Task, TaskQueue, TaskRegistry, TaskState, Worker


@dataclasses.dataclass(frozen=True)
class Welcome(Task, name="test.welcome"):
    email: str


class WelcomeHandler:
    sent: list[str] = []  # noqa: RUF012 - a test's record

    async def handle(self, task: Welcome) -> None:
        WelcomeHandler.sent.append(task.email)


@pytest.fixture
def welcome(registry: TaskRegistry) -> TaskRegistry:
    registry.register(Welcome, WelcomeHandler)
    WelcomeHandler.sent = []
    return registry


async def stored(queue: TaskQueue) -> list[str]:
    tasks = await queue.admin.list(list(TaskState))
    return sorted(t.payload for t in tasks)


@pytest.mark.usefixtures("welcome")
class TestPostgres:
    async def test_commit_keeps_the_task_and_rollback_drops_it(
        self, pg_queue: TaskQueue, postgres_url: str, psycopg_transaction, fast
    ):
        """Tasks written through a transaction appear on commit only, and then run."""
        async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
            async with conn.transaction():
                tx = psycopg_transaction(conn)
                kept = await pg_queue.enqueue(Welcome("kept@example.com"), transaction=tx)
                await pg_queue.enqueue_many(
                    [Welcome("batch1@example.com"), Welcome("batch2@example.com")], transaction=tx
                )
                assert await stored(pg_queue) == []  # not visible before the commit

            async def failing_change() -> None:
                async with conn.transaction():
                    tx = psycopg_transaction(conn)
                    await pg_queue.enqueue(Welcome("dropped@example.com"), transaction=tx)
                    raise RuntimeError("the business change failed")

            with pytest.raises(RuntimeError):
                await failing_change()
        info = await pg_queue.admin.get(kept)  # type: ignore[arg-type]
        assert info is not None
        assert info.state is TaskState.QUEUED
        await Worker(pg_queue, settings=fast()).run_until_idle()
        assert sorted(WelcomeHandler.sent) == [
            "batch1@example.com",
            "batch2@example.com",
            "kept@example.com",
        ]

    async def test_commit_wakes_an_idle_worker(
        self, pg_queue: TaskQueue, postgres_url: str, psycopg_transaction, fast, eventually
    ):
        """The NOTIFY sent inside the transaction reaches workers when it commits."""
        worker = Worker(pg_queue, settings=fast(poll_interval=60))
        async with worker.running():
            async with (
                await psycopg.AsyncConnection.connect(postgres_url) as conn,
                conn.transaction(),
            ):
                await pg_queue.enqueue(
                    Welcome("woken@example.com"), transaction=psycopg_transaction(conn)
                )
            await eventually(lambda: WelcomeHandler.sent == ["woken@example.com"], "task ran")

    async def test_dedup_and_delay_work_in_a_transaction(
        self, pg_queue: TaskQueue, postgres_url: str, psycopg_transaction
    ):
        """dedup_key and delay behave inside a transaction as outside."""
        await pg_queue.enqueue(Welcome("a@example.com"), dedup_key="welcome:a")
        async with (
            await psycopg.AsyncConnection.connect(postgres_url) as conn,
            conn.transaction(),
        ):
            tx = psycopg_transaction(conn)
            await pg_queue.enqueue(Welcome("a@example.com"), dedup_key="welcome:a", transaction=tx)
            await pg_queue.enqueue(Welcome("later@example.com"), delay=3600, transaction=tx)
        queued = await pg_queue.admin.list(TaskState.QUEUED)
        assert len(queued) == 2
        assert max(t.run_at for t in queued) > min(t.run_at for t in queued)

    async def test_through_sqlalchemy_text(self, pg_queue: TaskQueue, postgres_url: str):
        """The statements run unchanged through SQLAlchemy `text()` (what a unit of work does)."""
        sqlalchemy = pytest.importorskip("sqlalchemy")
        asyncio_ext = pytest.importorskip("sqlalchemy.ext.asyncio")
        url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = asyncio_ext.create_async_engine(url)

        class SessionTransaction:
            def __init__(self, session: object) -> None:
                self.session = session
                self.dialect_name = engine.dialect.name

            async def execute_sql(self, statement: str, parameters: dict) -> None:
                await self.session.execute(sqlalchemy.text(statement), parameters)  # type: ignore[attr-defined]

        try:
            async with asyncio_ext.AsyncSession(engine) as session, session.begin():
                await pg_queue.enqueue(
                    Welcome("orm@example.com"), transaction=SessionTransaction(session)
                )
        finally:
            await engine.dispose()
        assert len(await stored(pg_queue)) == 1

    async def test_large_batch_in_a_transaction(
        self, pg_queue: TaskQueue, postgres_url: str, psycopg_transaction
    ):
        """A batch larger than one statement's parameter limit is written in chunks."""
        async with (
            await psycopg.AsyncConnection.connect(postgres_url) as conn,
            conn.transaction(),
        ):
            await pg_queue.enqueue_many(
                [Welcome(f"{i}@example.com") for i in range(8000)],
                transaction=psycopg_transaction(conn),
            )
        assert sum(c.count for c in await pg_queue.admin.counts()) == 8000

    async def test_wrong_dialect_is_refused(self, pg_queue: TaskQueue, sqlite_transaction):
        """A transaction of another database cannot carry the queue's task."""
        with pytest.raises(ValueError, match="'sqlite' transaction on a postgresql task queue"):
            await pg_queue.enqueue(Welcome("x@example.com"), transaction=sqlite_transaction(None))


@pytest.mark.usefixtures("welcome")
class TestSqlite:
    async def test_commit_keeps_the_task_and_rollback_drops_it(
        self, registry: TaskRegistry, tmp_path: Path, sqlite_transaction, fast
    ):
        """On SQLite as well: the task exists if and only if the transaction commits."""
        path = tmp_path / "app.db"
        queue = TaskQueue.from_url(f"sqlite:///{path}", registry)
        await queue.migrate()
        async with aiosqlite.connect(path, isolation_level=None) as conn:
            await conn.execute("BEGIN")
            await queue.enqueue(Welcome("kept@example.com"), transaction=sqlite_transaction(conn))
            await conn.execute("COMMIT")
            await conn.execute("BEGIN")
            await queue.enqueue(
                Welcome("dropped@example.com"), transaction=sqlite_transaction(conn)
            )
            await conn.execute("ROLLBACK")
        await Worker(queue, settings=fast()).run_until_idle()
        assert WelcomeHandler.sent == ["kept@example.com"]
        async with aiosqlite.connect(path, isolation_level=None) as conn:
            await conn.execute("BEGIN")
            await queue.enqueue_many(
                [Welcome(f"{i}@example.com") for i in range(1200)],
                transaction=sqlite_transaction(conn),
            )
            await conn.execute("COMMIT")
        assert len(await queue.admin.list(TaskState.QUEUED, limit=5000)) == 1200
        await queue.close()


@pytest.mark.usefixtures("welcome")
async def test_memory_queue_records_at_once(registry: TaskRegistry, psycopg_transaction):
    """The in-memory queue takes part in no transaction: it records the task at once."""
    queue = TaskQueue.from_url("memory://", registry)
    await queue.enqueue(Welcome("x@example.com"), transaction=psycopg_transaction(None))
    assert len(await stored(queue)) == 1
