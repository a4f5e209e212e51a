"""A worker process for the fault-injection tests: `python tasks_worker_process.py URL SCHEMA`.

Its handler prints "started <seq> <attempt>" when an attempt begins and records every
completed execution in the `fault_executions` table, so the test can count duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import sys
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from scaffold.tasks import (
    PostgresBackend,
    RetryPolicy,
    Task,
    TaskContext,
    TaskQueue,
    TaskRegistry,
    Worker,
    WorkerSettings,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@dataclasses.dataclass(frozen=True)
class Work(Task, name="fault.work"):
    seq: int
    pause: float = 0.0
    first_attempt_pause: float = 0.0
    poison: bool = False


def say(line: str) -> None:
    """Tell the test process (reading our stdout) what happened."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Recorder:
    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema
        self.conn: psycopg.AsyncConnection[object] | None = None
        self.lock = asyncio.Lock()

    async def record(self, seq: int) -> None:
        async with self.lock:
            if self.conn is None:
                self.conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            statement = sql.SQL("INSERT INTO {}.fault_executions (seq, pid) VALUES (%s, %s)")
            await self.conn.execute(
                statement.format(sql.Identifier(self.schema)), [seq, os.getpid()]
            )


class WorkHandler:
    def __init__(self, context: TaskContext, recorder: Recorder) -> None:
        self.context = context
        self.recorder = recorder

    async def handle(self, task: Work) -> None:
        say(f"started {task.seq} {self.context.attempt}")
        if task.poison:
            raise RuntimeError(f"task {task.seq} is poisoned")
        pause = task.first_attempt_pause if self.context.attempt == 1 else task.pause
        await asyncio.sleep(pause)
        await self.recorder.record(task.seq)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("schema")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--lease", type=float, default=1.0)
    args = parser.parse_args()
    recorder = Recorder(args.url, args.schema)

    @contextlib.asynccontextmanager
    async def resolver(handler_type: type, context: TaskContext) -> AsyncIterator[WorkHandler]:
        assert handler_type is WorkHandler
        yield WorkHandler(context, recorder)

    registry = TaskRegistry()
    # Short backoff: a poisoned task goes through its ten attempts within a second.
    registry.register(Work, WorkHandler, max_attempts=10, retry=RetryPolicy(0.01, 0.05))
    queue = TaskQueue(PostgresBackend(args.url, schema=args.schema, max_connections=4), registry)
    settings = WorkerSettings(
        concurrency=args.concurrency,
        lease=args.lease,
        heartbeat_interval=args.lease / 4,
        maintenance_interval=0.2,
        poll_interval=0.2,
        shutdown_timeout=5,
    )
    worker = Worker(queue, resolver=resolver, settings=settings)  # type: ignore[arg-type]
    run = asyncio.create_task(worker.run())
    await asyncio.sleep(0)  # run() has installed its SIGTERM handler before its first await
    say("ready")
    try:
        await run
    finally:
        await queue.close()


if __name__ == "__main__":
    asyncio.run(main())
