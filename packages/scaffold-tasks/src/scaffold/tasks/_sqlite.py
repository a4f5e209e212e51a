"""The SQLite backend: the embedded default, with the semantics of the PostgreSQL one.

One connection per backend, in WAL mode; an asyncio lock keeps each operation's
statements together. Every statement that changes state is atomic on its own or runs in
`BEGIN IMMEDIATE`, so several processes may share the file. Times are Unix seconds on the
machine's clock (every process using the file runs on that machine).

Wake-ups: enqueueing through the same backend object wakes its workers at once; for
writes from other processes a worker watches `PRAGMA data_version`, which changes when
another connection commits, every `watch_interval` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from . import _sqlite_sql as q
from ._errors import QueueUnavailableError
from ._ids import first_id_at
from ._records import (
    ClaimedTask,
    CronTick,
    Failure,
    NewTask,
    QueueCount,
    Recovered,
    TaskInfo,
    TaskState,
)
from ._schema_versions import check_version, too_new
from ._sqlite_schema import MIGRATIONS, SCHEMA_VERSION, VERSION_TABLE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

    from .types import SqlTransaction

_IN_TRANSACTION_CHUNK: Final = 500


def path_from_url(url: str) -> str:
    """The file of a `sqlite:///relative.db` or `sqlite:////absolute.db` URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] != "sqlite":
        raise ValueError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.db)")
    path = rest.removeprefix("/")
    if not path or path == ":memory:":
        raise ValueError(
            f"{url!r} names no file: the task queue needs a database file that workers share "
            "(use the in-memory backend for tests)"
        )
    return path.split("?", 1)[0]


def _time(value: float | None) -> datetime.datetime | None:
    return None if value is None else datetime.datetime.fromtimestamp(value, datetime.UTC)


def _timestamp(value: datetime.datetime) -> float:
    return value.timestamp()


class _SqliteWakeups:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def event(self) -> asyncio.Event:
        return self._event


class SqliteBackend:
    """Tasks in a SQLite file (tables `scaffold_tasks` and friends).

    Parameters:
        path: the database file; the application's own SQLite database works, so that
            tasks can be enqueued in the same transaction as the business change.
        busy_timeout: seconds to wait for another process's write lock.
        watch_interval: how often a worker checks for commits by other processes.
    """

    dialect: Final = "sqlite"
    default_poll_interval: Final = 1.0

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 5.0, watch_interval: float = 0.05
    ) -> None:
        self._path = str(path)
        self._busy_timeout = busy_timeout
        self._watch_interval = watch_interval
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._subscribers: set[_SqliteWakeups] = set()
        self._has_limits = False

    def __repr__(self) -> str:
        return f"SqliteBackend({self._path!r})"

    @property
    def path(self) -> str:
        return self._path

    async def open(self) -> None:
        if self._conn is not None:
            return
        try:
            conn = await aiosqlite.connect(self._path, isolation_level=None)
            await conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as error:
            raise QueueUnavailableError(f"cannot open {self._path}: {error}") from error
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._conn is None:
                await self.open()
            assert self._conn is not None  # noqa: S101 - open() sets it or raises
            try:
                yield self._conn
            except sqlite3.OperationalError as error:
                # "database is locked" beyond the busy timeout, a vanished file: retryable.
                with contextlib.suppress(sqlite3.Error):
                    if self._conn.in_transaction:
                        await self._conn.rollback()
                raise QueueUnavailableError(f"SQLite is unavailable: {error}") from error

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._connection() as conn:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()

    async def _all(self, statement: str, params: Mapping[str, Any]) -> list[Any]:
        async with self._connection() as conn:
            cursor = await conn.execute(statement, params)
            return list(await cursor.fetchall())

    async def _run(self, statement: str, params: Mapping[str, Any]) -> int:
        async with self._connection() as conn:
            cursor = await conn.execute(statement, params)
            return cursor.rowcount

    def _wake(self) -> None:
        for subscriber in self._subscribers:
            subscriber.event.set()

    # Schema

    async def _version(self, conn: aiosqlite.Connection) -> int:
        cursor = await conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'scaffold_tasks_schema'"
        )
        if await cursor.fetchone() is None:
            return 0
        cursor = await conn.execute("SELECT max(version) FROM scaffold_tasks_schema")
        row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def migrate(self) -> int:
        async with self._transaction() as conn:
            await conn.execute(VERSION_TABLE)
            current = await self._version(conn)
            if current > SCHEMA_VERSION:
                raise too_new(current, SCHEMA_VERSION, self._place())
            for version, statements in MIGRATIONS:
                if version > current:
                    for statement in statements:
                        await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO scaffold_tasks_schema (version, applied_at) VALUES (?, ?)",
                        (version, time.time()),
                    )
        return SCHEMA_VERSION

    def _place(self) -> str:
        return f"in {self._path}"

    async def check_schema(self) -> None:
        async with self._connection() as conn:
            current = await self._version(conn)
        check_version(
            current, SCHEMA_VERSION, place=self._place(), store=f"the SQLite database {self._path}"
        )

    # Enqueueing

    @staticmethod
    def _row(task: NewTask, now: float) -> dict[str, Any]:
        run_at = _timestamp(task.run_at) if task.run_at is not None else now + (task.delay or 0)
        return {
            "id": str(task.id),
            "name": task.name,
            "queue": task.queue,
            "payload": task.payload,
            "priority": task.priority,
            "max_attempts": task.max_attempts,
            "run_at": run_at,
            "dedup_key": task.dedup_key,
            "now": now,
        }

    async def enqueue(self, tasks: Sequence[NewTask]) -> list[bool]:
        now = time.time()
        written: list[bool] = []
        async with self._transaction() as conn:
            if any(task.dedup_key is not None for task in tasks):
                # Row by row, to learn which ones a dedup key skipped.
                for task in tasks:
                    cursor = await conn.execute(q.INSERT, self._row(task, now))
                    written.append(cursor.rowcount == 1)
            else:
                await conn.executemany(q.INSERT, [self._row(task, now) for task in tasks])
                written = [True] * len(tasks)
        self._wake()
        return written

    async def enqueue_plain(
        self, chunks: Iterable[Sequence[NewTask]], *, retry: bool = False
    ) -> None:
        del retry  # INSERT ... ON CONFLICT DO NOTHING skips rows written before anyway
        now = time.time()
        async with self._transaction() as conn:
            for chunk in chunks:
                await conn.executemany(q.INSERT, [self._row(task, now) for task in chunk])
        self._wake()

    async def enqueue_in(self, transaction: SqlTransaction, tasks: Sequence[NewTask]) -> None:
        if not tasks:
            return
        now = time.time()
        # In chunks: SQLite allows some 32,000 parameters per statement.
        for start in range(0, len(tasks), _IN_TRANSACTION_CHUNK):
            chunk = tasks[start : start + _IN_TRANSACTION_CHUNK]
            parameters: dict[str, object] = {}
            for i, task in enumerate(chunk):
                row = self._row(task, now)
                row["created_at"] = row.pop("now")
                parameters |= {f"{key}_{i}": value for key, value in row.items()}
            await transaction.execute_sql(q.insert_in_transaction(len(chunk)), parameters)

    # Working

    @contextlib.asynccontextmanager
    async def wakeups(self, queues: Sequence[str]) -> AsyncIterator[_SqliteWakeups]:  # noqa: ARG002 - any commit may concern any queue
        subscriber = _SqliteWakeups()
        self._subscribers.add(subscriber)
        watcher = asyncio.create_task(self._watch(subscriber), name="scaffold-tasks watcher")
        try:
            yield subscriber
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self._subscribers.discard(subscriber)

    async def _watch(self, subscriber: _SqliteWakeups) -> None:
        """Wake the worker when another process commits (PRAGMA data_version changes)."""
        seen: int | None = None
        while True:
            try:
                rows = await self._all("PRAGMA data_version", {})
            except QueueUnavailableError:
                rows = []
            version = rows[0][0] if rows else None
            if seen is not None and version is not None and version != seen:
                subscriber.event.set()
            seen = version
            await asyncio.sleep(self._watch_interval)

    async def set_concurrency_limits(self, limits: Mapping[str, int]) -> None:
        now = time.time()
        async with self._transaction() as conn:
            for name, limit in limits.items():
                if limit:
                    await conn.execute(q.UPSERT_LIMIT, {"name": name, "limit": limit, "now": now})
                else:
                    await conn.execute(q.DELETE_LIMIT, {"name": name})
        await self._refresh_limits()

    async def _refresh_limits(self) -> None:
        rows = await self._all(q.HAS_LIMITS, {})
        self._has_limits = bool(rows[0][0])

    async def claim(
        self, worker_id: str, queues: Sequence[str], limit: int, lease: float
    ) -> list[ClaimedTask]:
        params = {
            "queues": json.dumps(list(queues)),
            "limit": limit,
            "worker": worker_id,
            "lease": lease,
            "now": time.time(),
        }
        statement = q.CLAIM_LIMITED if self._has_limits else q.CLAIM
        rows = await self._all(statement, params)
        return [ClaimedTask(uuid.UUID(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def acknowledge(
        self,
        worker_id: str,
        succeeded: Sequence[uuid.UUID],
        failed: Sequence[Failure],
        *,
        keep_done: bool,
    ) -> int:
        now = time.time()
        matched = 0
        async with self._transaction() as conn:
            if succeeded:
                statement = q.ACK_DONE_KEEP if keep_done else q.ACK_DONE_DELETE
                ids = json.dumps([str(i) for i in succeeded])
                cursor = await conn.execute(
                    statement, {"ids": ids, "worker": worker_id, "now": now}
                )
                matched += cursor.rowcount
            for failure in failed:
                cursor = await conn.execute(
                    q.ACK_FAILED,
                    {
                        "id": str(failure.id),
                        "error": failure.error,
                        "retry_in": failure.retry_in,
                        "worker": worker_id,
                        "now": now,
                    },
                )
                matched += cursor.rowcount
        if failed:
            self._wake()
        return matched

    async def extend_leases(
        self, worker_id: str, held: Sequence[uuid.UUID], lease: float
    ) -> list[uuid.UUID]:
        params = {
            "held": json.dumps([str(i) for i in held]),
            "worker": worker_id,
            "lease": lease,
            "now": time.time(),
        }
        async with self._transaction() as conn:
            cursor = await conn.execute(q.EXTEND_LEASES, params)
            extended = {uuid.UUID(row[0]) for row in await cursor.fetchall()}
            await conn.execute(q.RELEASE_ORPHANS, params)
        return [i for i in held if i not in extended]

    async def release(self, worker_id: str, ids: Sequence[uuid.UUID]) -> int:
        if not ids:
            return 0
        params = {"ids": json.dumps([str(i) for i in ids]), "worker": worker_id, "now": time.time()}
        released = await self._run(q.RELEASE, params)
        if released:
            self._wake()
        return released

    async def recover_expired(self) -> list[Recovered]:
        rows = await self._all(q.RECOVER_EXPIRED, {"now": time.time()})
        await self._refresh_limits()
        if rows:
            self._wake()
        return [Recovered(uuid.UUID(r[0]), r[1], TaskState(r[2])) for r in rows]

    async def seconds_until_due(self, queues: Sequence[str]) -> float | None:
        rows = await self._all(
            q.SECONDS_UNTIL_DUE, {"queues": json.dumps(list(queues)), "now": time.time()}
        )
        return None if rows[0][0] is None else float(rows[0][0])

    # Cron

    async def fire(self, ticks: Sequence[CronTick]) -> int:
        if not ticks:
            return 0
        now = time.time()
        created = 0
        async with self._transaction() as conn:
            for tick in ticks:
                cursor = await conn.execute(
                    q.INSERT_TICK,
                    {
                        "schedule": tick.schedule,
                        "fire_time": _timestamp(tick.fire_time),
                        "task_id": str(tick.task.id),
                    },
                )
                if cursor.rowcount == 1:
                    cursor = await conn.execute(q.INSERT, self._row(tick.task, now))
                    created += cursor.rowcount
        if created:
            self._wake()
        return created

    async def last_fire_times(self, schedules: Sequence[str]) -> dict[str, datetime.datetime]:
        rows = await self._all(q.LAST_FIRE_TIMES, {"schedules": json.dumps(list(schedules))})
        return {row[0]: datetime.datetime.fromtimestamp(row[1], datetime.UTC) for row in rows}

    # Operations

    @staticmethod
    def _info(row: tuple[Any, ...]) -> TaskInfo:
        return TaskInfo(
            id=uuid.UUID(row[0]),
            name=row[1],
            queue=row[2],
            state=TaskState(row[3]),
            priority=row[4],
            run_at=_time(row[5]),  # type: ignore[arg-type]
            attempts=row[6],
            max_attempts=row[7],
            dedup_key=row[8],
            worker_id=row[9],
            last_error=row[10],
            created_at=_time(row[11]),  # type: ignore[arg-type]
            finished_at=_time(row[12]),
            payload=row[13],
        )

    async def list_tasks(
        self, *, states: Sequence[TaskState], queue: str | None, limit: int
    ) -> list[TaskInfo]:
        params = {"states": json.dumps([str(s) for s in states]), "queue": queue, "limit": limit}
        return [self._info(row) for row in await self._all(q.LIST_TASKS, params)]

    async def get_task(self, task_id: uuid.UUID) -> TaskInfo | None:
        rows = await self._all(q.GET_TASK, {"id": str(task_id)})
        return self._info(rows[0]) if rows else None

    async def counts(self) -> list[QueueCount]:
        rows = await self._all(q.COUNTS, {})
        return [QueueCount(row[0], TaskState(row[1]), int(row[2])) for row in rows]

    @staticmethod
    def _ids(ids: Sequence[uuid.UUID] | None) -> str | None:
        return None if ids is None else json.dumps([str(i) for i in ids])

    async def retry_dead(self, ids: Sequence[uuid.UUID] | None, queue: str | None) -> int:
        params = {"ids": self._ids(ids), "queue": queue, "now": time.time()}
        retried = await self._run(q.RETRY_DEAD, params)
        if retried:
            self._wake()
        return retried

    async def purge(
        self, state: TaskState, ids: Sequence[uuid.UUID] | None, queue: str | None
    ) -> int:
        return await self._run(
            q.PURGE, {"state": str(state), "ids": self._ids(ids), "queue": queue}
        )

    async def set_paused(self, queue: str, *, paused: bool) -> None:
        await self._run(q.SET_PAUSED, {"queue": queue, "paused": int(paused), "now": time.time()})
        if not paused:
            self._wake()

    async def paused_queues(self) -> list[str]:
        return [row[0] for row in await self._all(q.PAUSED_QUEUES, {})]

    async def prune(self, older_than: float) -> int:
        cutoff = time.time() - older_than
        pruned = await self._run(
            q.PRUNE_DONE, {"cutoff": cutoff, "before": str(first_id_at(cutoff))}
        )
        await self._run(q.PRUNE_TICKS, {"cutoff": time.time() - max(older_than, 7 * 86400.0)})
        return pruned
