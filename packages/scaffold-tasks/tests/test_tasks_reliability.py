"""Fault injection against real PostgreSQL and real worker processes killed with SIGKILL.

Workers run `tasks_worker_process.py` with a one-second lease. Each completed execution is
recorded in a table, so the tests can tell lost tasks (none allowed) from duplicate
executions (allowed by at-least-once delivery, counted and reported).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql

from scaffold.tasks import Task, TaskQueue, TaskRegistry, TaskState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

WORKER_SCRIPT = Path(__file__).with_name("tasks_worker_process.py")

pytestmark = pytest.mark.slow


@dataclasses.dataclass(frozen=True)
class Work(Task, name="fault.work"):
    """The same stable name and fields as the worker process's task type."""

    seq: int
    pause: float = 0.0
    first_attempt_pause: float = 0.0
    poison: bool = False


class WorkerProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.ready = asyncio.Event()  # set once it handles SIGTERM (or has exited)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while raw := await self.process.stdout.readline():
            line = raw.decode().strip()
            self.lines.append(line)
            if line == "ready":
                self.ready.set()
        self.ready.set()

    def started(self, seq: int) -> bool:
        return any(line.startswith(f"started {seq} ") for line in self.lines)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        # A worker still starting up has no SIGTERM handler yet: wait until it has one.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await self.ready.wait()
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                code = await self.process.wait()
        except TimeoutError:
            self.kill()
            code = await self.process.wait()
        await self._reader
        return code


@pytest.fixture
async def fault_queue(
    postgres_url: str, pg_schema: str, registry: TaskRegistry
) -> AsyncIterator[TaskQueue]:
    registry.register(Work, max_attempts=10)
    async with TaskQueue.from_url(postgres_url, registry, schema=pg_schema) as queue:
        await queue.migrate()
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
            statement = sql.SQL(
                "CREATE TABLE {}.fault_executions (seq int NOT NULL, pid int NOT NULL)"
            )
            await conn.execute(statement.format(sql.Identifier(pg_schema)))
        yield queue


@pytest.fixture
async def spawn(postgres_url: str, pg_schema: str) -> AsyncIterator[object]:
    """`await spawn(concurrency=...)` starts a worker process; all are stopped at the end."""
    processes: list[WorkerProcess] = []

    async def start(concurrency: int = 10) -> WorkerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER_SCRIPT), postgres_url, pg_schema,
            "--concurrency", str(concurrency),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        worker = WorkerProcess(process)
        processes.append(worker)
        return worker

    yield start
    for worker in processes:
        if worker.process.returncode is None:
            await worker.stop()


async def executions(postgres_url: str, schema: str) -> list[int]:
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        statement = sql.SQL("SELECT seq FROM {}.fault_executions")
        cursor = await conn.execute(statement.format(sql.Identifier(schema)))
        return [row[0] for row in await cursor.fetchall()]


async def wait_until(predicate, what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.05)):
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"still not true after {seconds} s: {what}")


async def count_in(queue: TaskQueue, state: TaskState) -> int:
    return sum(c.count for c in await queue.admin.counts() if c.state is state)


async def test_task_of_a_killed_worker_is_completed_by_another(
    fault_queue: TaskQueue, spawn, postgres_url: str, pg_schema: str
):
    """SIGKILL a worker in the middle of a task: after the lease expires another worker
    runs it to completion, once."""
    task_id = await fault_queue.enqueue(Work(0, first_attempt_pause=60))
    first = await spawn()
    await wait_until(lambda: first.started(0), "the first worker started the task")
    first.kill()
    await first.process.wait()
    second = await spawn()
    await wait_until(lambda: count_in(fault_queue, TaskState.DONE), "the task completed")
    assert task_id is not None
    info = await fault_queue.admin.get(task_id)
    assert info is not None
    assert (info.state, info.attempts) == (TaskState.DONE, 2)
    assert second.started(0)
    assert await executions(postgres_url, pg_schema) == [0]


async def test_random_kills_lose_no_task(
    fault_queue: TaskQueue, spawn, postgres_url: str, pg_schema: str, capsys
):
    """Thousands of tasks while workers are killed at random: every task completes, the
    poisoned ones are dead-lettered, and duplicate executions are counted and reported."""
    rng = random.Random(20240601)  # noqa: S311 - seeded, so a failing run can be replayed
    total = 3000
    poisoned = {17, 1234, 2999}
    await fault_queue.enqueue_many(
        # About six seconds of work for the workers below: the kills fall into it.
        [Work(i, pause=rng.uniform(0.02, 0.1), poison=i in poisoned) for i in range(total)]
    )
    workers = [await spawn(concurrency=10) for _ in range(3)]
    kills = 0
    for _ in range(12):
        await asyncio.sleep(rng.uniform(0.3, 0.8))
        victim = workers.pop(rng.randrange(len(workers)))
        victim.kill()
        kills += 1
        workers.append(await spawn(concurrency=10))
    await wait_until(
        lambda: count_in(fault_queue, TaskState.DONE),
        "tasks completing",
    )

    async def settled() -> bool:
        done = await count_in(fault_queue, TaskState.DONE)
        dead = await count_in(fault_queue, TaskState.DEAD)
        return done + dead == total

    await wait_until(settled, "every task done or dead", 120)
    for worker in workers:
        assert await worker.stop() == 0  # SIGTERM: a graceful stop
    runs = await executions(postgres_url, pg_schema)
    completed = set(runs)
    duplicates = len(runs) - len(completed)
    assert completed == set(range(total)) - poisoned
    dead = await fault_queue.admin.list(TaskState.DEAD)
    assert {json.loads(t.payload)["seq"] for t in dead} == poisoned
    assert all("is poisoned" in (t.last_error or "") and t.attempts == 10 for t in dead)
    done = await fault_queue.admin.list(TaskState.DONE, limit=total)
    taken_over = sum(1 for t in done if t.attempts > 1)
    assert taken_over > 0  # the kills did interrupt work in progress
    with capsys.disabled():  # the figures are reported on every run
        sys.stdout.write(
            f"\n[random kills] {total} tasks, {kills} workers killed with SIGKILL, "
            f"{taken_over} tasks finished by another worker after a kill, "
            f"{len(runs)} completed executions, {duplicates} duplicate(s), 0 lost\n"
        )
