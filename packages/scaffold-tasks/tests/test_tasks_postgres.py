"""PostgreSQL specifics: SKIP LOCKED claims, NOTIFY wake-ups on a listen-only connection,
reconnection after pg_terminate_backend, limits across workers, schema versions."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import ClassVar

import psycopg
import pytest
from psycopg import sql

from scaffold.tasks import (
    PostgresBackend,
    QueueUnavailableError,
    SchemaVersionError,
    Task,
    TaskQueue,
    TaskRegistry,
    TaskState,
    Worker,
)


@dataclasses.dataclass(frozen=True)
class Job(Task, name="test.job"):
    n: int
    pause: float = 0.0


class JobHandler:
    done: ClassVar[list[int]] = []
    running: ClassVar[int] = 0
    peak: ClassVar[int] = 0

    async def handle(self, task: Job) -> None:
        JobHandler.running += 1
        JobHandler.peak = max(JobHandler.peak, JobHandler.running)
        try:
            await asyncio.sleep(task.pause)
        finally:
            JobHandler.running -= 1
        JobHandler.done.append(task.n)


@pytest.fixture(autouse=True)
def jobs(registry: TaskRegistry) -> TaskRegistry:
    JobHandler.done, JobHandler.running, JobHandler.peak = [], 0, 0
    registry.register(Job, JobHandler)
    return registry


async def backends_of(postgres_url: str, application_name: str) -> list[tuple[int, str]]:
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT pid, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [application_name],
        )
        return await cursor.fetchall()


async def terminate(postgres_url: str, application_name: str) -> int:
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s "
            "AND pid <> pg_backend_pid()",
            [application_name],
        )
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


class TestClaiming:
    async def test_concurrent_claims_never_overlap(
        self, pg_queue: TaskQueue, postgres_url: str, pg_schema: str
    ):
        """Claimers racing on one table (SKIP LOCKED) each get different tasks, all taken."""
        await pg_queue.enqueue_many([Job(i) for i in range(600)])
        others = [
            PostgresBackend(postgres_url, schema=pg_schema, max_connections=2) for _ in range(3)
        ]
        try:

            async def drain(backend: PostgresBackend, worker_id: str) -> list[object]:
                taken: list[object] = []
                while batch := await backend.claim(worker_id, ["default"], 25, 30):
                    taken.extend(t.id for t in batch)
                return taken

            results = await asyncio.gather(
                *(drain(b, f"w{i}") for i, b in enumerate([pg_queue.backend, *others]))  # type: ignore[arg-type]
            )
        finally:
            for backend in others:
                await backend.close()
        everything = [task_id for result in results for task_id in result]
        assert len(everything) == 600
        assert len(set(everything)) == 600
        assert sum(1 for r in results if r) >= 2

    async def test_retried_batch_skips_rows_already_written(self, pg_queue: TaskQueue):
        """A batch retried after a lost reply writes the missing rows and skips the others."""
        new = pg_queue._new_tasks([Job(i) for i in range(30)])
        await pg_queue.backend.enqueue_plain([new[:10]])
        await pg_queue.backend.enqueue_plain([new[:20], new[20:]], retry=True)
        stored = await pg_queue.admin.list(TaskState.QUEUED, limit=100)
        assert sorted(t.id for t in stored) == sorted(t.id for t in new)

    async def test_limit_holds_across_workers(self, postgres_url: str, pg_schema: str, fast):
        """A per-type concurrency limit is global: two workers together stay under it."""
        registry2 = TaskRegistry()
        registry2.register(Job, JobHandler, concurrency=3)
        queues = [
            TaskQueue(PostgresBackend(postgres_url, schema=pg_schema, max_connections=3), registry2)
            for _ in range(2)
        ]
        await queues[0].migrate()
        await queues[0].enqueue_many([Job(i, pause=0.02) for i in range(40)])
        try:
            workers = [Worker(q, settings=fast(concurrency=10)) for q in queues]
            await asyncio.gather(*(w.run_until_idle() for w in workers))
        finally:
            for queue in queues:
                await queue.close()
        assert sorted(JobHandler.done) == list(range(40))
        assert JobHandler.peak <= 3


class TestNotifications:
    async def test_enqueue_wakes_an_idle_worker(
        self, pg_queue: TaskQueue, postgres_url: str, fast, eventually
    ):
        """With polling all but off, single and batch enqueues still reach an idle worker, and
        the listening connection runs nothing but LISTEN."""
        worker = Worker(pg_queue, settings=fast(poll_interval=300))
        async with worker.running():
            await eventually(
                lambda: backends_of(postgres_url, "scaffold-tasks-listener"), "listening"
            )
            await asyncio.sleep(0.2)  # the worker has gone idle
            await pg_queue.enqueue(Job(1))
            await eventually(lambda: JobHandler.done == [1], "the single task ran")
            await pg_queue.enqueue_many([Job(n) for n in range(2, 60)])
            await eventually(lambda: len(JobHandler.done) == 59, "the batch ran")
            listeners = await backends_of(postgres_url, "scaffold-tasks-listener")
        assert len(listeners) == 1
        assert listeners[0][1].startswith("LISTEN")

    async def test_listener_reconnects_and_resyncs(
        self, pg_queue: TaskQueue, postgres_url: str, fast, eventually
    ):
        """When the listening connection is killed, the worker reconnects, claims what was
        enqueued meanwhile (resync), and hears notifications again."""
        worker = Worker(pg_queue, settings=fast(poll_interval=300))
        async with worker.running():
            await eventually(
                lambda: backends_of(postgres_url, "scaffold-tasks-listener"), "listening"
            )
            await asyncio.sleep(0.2)
            assert await terminate(postgres_url, "scaffold-tasks-listener") == 1
            await pg_queue.enqueue(Job(1))  # may be sent while nobody listens
            await eventually(lambda: JobHandler.done == [1], "the task sent during the gap ran")
            await eventually(
                lambda: backends_of(postgres_url, "scaffold-tasks-listener"), "listening again"
            )
            await asyncio.sleep(0.2)
            await pg_queue.enqueue(Job(2))
            await eventually(lambda: JobHandler.done == [1, 2], "a later task ran")

    async def test_worker_survives_terminated_connections(
        self, pg_queue: TaskQueue, postgres_url: str, fast, eventually
    ):
        """pg_terminate_backend on every worker connection: it reconnects and goes on, and no
        task is lost."""
        worker = Worker(pg_queue, settings=fast(concurrency=4))
        async with worker.running():
            await pg_queue.enqueue_many([Job(i, pause=0.005) for i in range(100)])
            for _ in range(5):
                await asyncio.sleep(0.05)
                await terminate(postgres_url, "scaffold-tasks")
                await terminate(postgres_url, "scaffold-tasks-listener")
            await pg_queue.enqueue_many([Job(i) for i in range(100, 150)])
            await eventually(lambda: len(set(JobHandler.done)) == 150, "every task ran", 60)
        assert set(JobHandler.done) == set(range(150))
        counts = {c.state: c.count for c in await pg_queue.admin.counts()}
        assert counts == {TaskState.DONE: 150}


class TestSchema:
    async def test_worker_refuses_a_missing_schema_naming_the_command(
        self, registry: TaskRegistry, postgres_url: str, pg_schema: str
    ):
        """A worker on a database without the tables says which command creates them."""
        queue = TaskQueue(PostgresBackend(postgres_url, schema=pg_schema), registry)
        try:
            with pytest.raises(SchemaVersionError, match="Run `scaffold tasks migrate`"):
                await Worker(queue).run_until_idle()
        finally:
            await queue.close()

    async def test_newer_schema_is_refused(self, pg_queue: TaskQueue, postgres_url: str, pg_schema):
        """A schema migrated by a newer release makes this one refuse to work (and migrate)."""
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
            statement = sql.SQL("INSERT INTO {}.scaffold_tasks_schema VALUES (99)")
            await conn.execute(statement.format(sql.Identifier(pg_schema)))
        with pytest.raises(
            SchemaVersionError, match=r"version 99, newer .* upgrade scaffold-tasks"
        ):
            await pg_queue.check_schema()
        with pytest.raises(SchemaVersionError, match="upgrade scaffold-tasks"):
            await pg_queue.migrate()

    async def test_concurrent_migrations_are_safe(
        self, registry: TaskRegistry, postgres_url: str, pg_schema: str
    ):
        """Several processes migrating at once leave one schema at the current version."""
        queues = [
            TaskQueue(PostgresBackend(postgres_url, schema=pg_schema), registry) for _ in range(3)
        ]
        try:
            assert await asyncio.gather(*(q.migrate() for q in queues)) == [1, 1, 1]
            await queues[0].check_schema()
        finally:
            for queue in queues:
                await queue.close()

    async def test_unreachable_database_fails_clearly(self, registry: TaskRegistry):
        """Without a server, enqueueing fails with QueueUnavailableError, not a hang."""
        backend = PostgresBackend("postgresql://postgres@127.0.0.1:1/none", timeout=0.5)
        queue = TaskQueue(backend, registry)
        try:
            with pytest.raises(QueueUnavailableError, match="PostgreSQL is unavailable"):
                await queue.enqueue(Job(1))
        finally:
            await queue.close()

    async def test_worker_waits_for_the_database_at_start(self, registry: TaskRegistry, eventually):
        """A worker started before its database keeps trying (it may come up) until stopped."""
        backend = PostgresBackend("postgresql://postgres@127.0.0.1:1/none", timeout=0.2)
        queue = TaskQueue(backend, registry)
        worker = Worker(queue)
        run = asyncio.create_task(worker.run(handle_signals=False))
        try:
            await eventually(lambda: worker.counters.database_errors >= 2, "retried")
            assert not run.done()
        finally:
            worker.stop()
            with pytest.raises(QueueUnavailableError):
                await run
            await queue.close()

    async def test_long_schema_name_still_gets_notifications(
        self, registry: TaskRegistry, postgres_url: str, fast, eventually
    ):
        """A schema name too long for a NOTIFY channel of its own still gets wake-ups."""
        schema = "s" * 60
        backend = PostgresBackend(postgres_url, schema=schema)
        assert len(backend.channel) <= 63
        queue = TaskQueue(backend, registry)
        try:
            await queue.migrate()
            worker = Worker(queue, settings=fast(poll_interval=300))
            async with worker.running():
                await asyncio.sleep(0.3)
                await queue.enqueue(Job(5))
                await eventually(lambda: JobHandler.done == [5], "the task ran")
        finally:
            async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as c:
                await c.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            await queue.close()

    def test_bad_configuration_is_refused(self):
        """Bad schema names, URLs and pool sizes are refused when the backend is made."""
        with pytest.raises(ValueError, match="plain PostgreSQL identifier"):
            PostgresBackend("postgresql://localhost/db", schema="a; drop")
        with pytest.raises(ValueError, match="not a PostgreSQL URL"):
            PostgresBackend("mysql://localhost/db")
        with pytest.raises(ValueError, match="max_connections"):
            PostgresBackend("postgresql://localhost/db", min_connections=5, max_connections=2)
