"""The PostgreSQL backend: production, with any number of workers on any number of machines.

Claims take batches with `FOR UPDATE SKIP LOCKED`; outcomes are acknowledged in batches;
leases live on the database clock. Work is announced with NOTIFY, heard on a connection
that only listens (see `_postgres_listener`), and workers poll as well.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import TYPE_CHECKING, Any, Final

import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from . import _postgres_sql
from ._errors import QueueUnavailableError
from ._ids import first_id_at
from ._postgres_listener import PostgresWakeups
from ._postgres_schema import MIGRATIONS, SCHEMA_VERSION, VERSION_TABLE
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

if TYPE_CHECKING:
    import datetime
    import uuid
    from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

    from .types import SqlTransaction

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_MIGRATION_LOCK: Final = "scaffold_tasks.migrate"
_IN_TRANSACTION_CHUNK: Final = 1000


def conninfo_from_url(url: str) -> str:
    """A libpq URL from a SQLAlchemy-style one (`postgresql+psycopg://` works too)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in {"postgresql", "postgres"}:
        raise ValueError(f"not a PostgreSQL URL: {url!r} (expected postgresql://...)")
    return f"postgresql://{rest}"


def with_application_name(conninfo: str, name: str) -> str:
    """Name the connections in pg_stat_activity, unless the URL names them already."""
    if "application_name" in conninfo_to_dict(conninfo):
        return conninfo
    return make_conninfo(conninfo, application_name=name)


class PostgresBackend:
    """Tasks in PostgreSQL tables (`scaffold_tasks` and friends) of one schema.

    Parameters:
        url: a libpq connection URL (`postgresql://user@host/db`; a SQLAlchemy URL with
            `+psycopg` or `+asyncpg` is accepted and rewritten).
        schema: the PostgreSQL schema holding the tables (created by `migrate`).
        min_connections, max_connections: bounds of the connection pool used for
            enqueueing, claiming, acknowledging and the admin operations. A worker also
            opens one more connection, which only listens for notifications.
        timeout: seconds an operation waits for a connection before it fails with
            `QueueUnavailableError` (the database is down or the pool exhausted).
    """

    dialect: Final = "postgresql"
    default_poll_interval: Final = 2.0

    def __init__(
        self,
        url: str,
        *,
        schema: str = "public",
        min_connections: int = 1,
        max_connections: int = 8,
        timeout: float = 10.0,
    ) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema {schema!r} is not a plain PostgreSQL identifier")
        if not 0 <= min_connections <= max_connections or max_connections < 1:
            raise ValueError(
                "need 0 <= min_connections <= max_connections and max_connections >= 1, got "
                f"{min_connections} and {max_connections}"
            )
        self._conninfo = conninfo_from_url(url)
        self._sql = _postgres_sql.build(schema)
        self._pool = psycopg_pool.AsyncConnectionPool(
            with_application_name(self._conninfo, "scaffold-tasks"),
            min_size=min_connections,
            max_size=max_connections,
            open=False,
            kwargs={"autocommit": True},
            name="scaffold-tasks",
            timeout=timeout,
        )
        self._opened = False
        self._has_limits = False

    def __repr__(self) -> str:
        return f"PostgresBackend(schema={self._sql.schema!r})"

    @property
    def schema(self) -> str:
        return self._sql.schema

    @property
    def channel(self) -> str:
        """The NOTIFY channel that announces new work."""
        return self._sql.channel

    async def open(self) -> None:
        if not self._opened:
            await self._pool.open(wait=False)
            self._opened = True

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
            self._opened = False

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if not self._opened:
            await self.open()
        try:
            async with self._pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as error:
            # Lost connections, a restarting server, an exhausted pool: worth a retry. When
            # one connection died (a restart, pg_terminate_backend) its idle siblings
            # usually did too: check them now so that the retry gets a live one.
            if not isinstance(error, psycopg_pool.PoolTimeout):
                with contextlib.suppress(psycopg.Error):
                    await self._pool.check()
            raise QueueUnavailableError(f"PostgreSQL is unavailable: {error}") from error

    async def _all(self, statement: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        async with self._connection() as conn:
            cursor = await conn.execute(statement, params)
            return await cursor.fetchall()

    async def _one(self, statement: str, params: Mapping[str, object]) -> tuple[Any, ...]:
        rows = await self._all(statement, params)
        return rows[0]

    async def _run(self, statement: str, params: Mapping[str, object]) -> int:
        async with self._connection() as conn:
            cursor = await conn.execute(statement, params)
            return cursor.rowcount

    # Schema

    async def _version(self, conn: psycopg.AsyncConnection[Any]) -> int:
        table = f"{_postgres_sql.quote_identifier(self.schema)}.scaffold_tasks_schema"
        cursor = await conn.execute(self._sql.version_check, {"table": table})
        row = await cursor.fetchone()
        if not row or not row[0]:
            return 0
        cursor = await conn.execute(self._sql.version_read)
        row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def migrate(self) -> int:
        """Bring the schema to the version this release needs; returns that version."""
        s = _postgres_sql.quote_identifier(self.schema)
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_MIGRATION_LOCK])
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            await conn.execute(VERSION_TABLE.format(s=s))
            current = await self._version(conn)
            if current > SCHEMA_VERSION:
                raise too_new(current, SCHEMA_VERSION, self._place())
            for version, statements in MIGRATIONS:
                if version > current:
                    await conn.execute(statements.format(s=s))
                    await conn.execute(
                        f"INSERT INTO {s}.scaffold_tasks_schema (version) VALUES (%s)",  # noqa: S608 - s is a checked identifier
                        [version],
                    )
        return SCHEMA_VERSION

    def _place(self) -> str:
        return f"{self.schema!r}"

    async def check_schema(self) -> None:
        async with self._connection() as conn:
            current = await self._version(conn)
        check_version(
            current,
            SCHEMA_VERSION,
            place=self._place(),
            store=f"the PostgreSQL schema {self.schema!r}",
        )

    # Enqueueing

    async def enqueue(self, tasks: Sequence[NewTask]) -> list[bool]:
        if not tasks:
            return []
        if len(tasks) == 1:
            task = tasks[0]
            rows = await self._all(self._sql.enqueue_one, self._one_params(task))
            return [bool(rows)]
        rows = await self._all(self._sql.enqueue_many, self._many_params(tasks))
        inserted = {row[0] for row in rows}
        return [t.id in inserted for t in tasks]

    async def enqueue_plain(
        self, chunks: Iterable[Sequence[NewTask]], *, retry: bool = False
    ) -> None:
        queues: set[str] = set()
        async with self._connection() as conn:
            if retry:
                # COPY cannot skip rows a lost earlier attempt already wrote.
                async with conn.transaction():
                    for chunk in chunks:
                        await conn.execute(self._sql.enqueue_many, self._many_params(chunk))
                        queues.update(t.queue for t in chunk)
            else:
                # A COPY is a transaction of its own: two round trips fewer than
                # BEGIN ... COMMIT, and the notification follows the commit anyway.
                await self._copy(conn, chunks, queues)
            await conn.execute(
                self._sql.notify_queues, {"channel": self.channel, "queues": sorted(queues)}
            )

    def _one_params(self, task: NewTask) -> dict[str, object]:
        return {
            "id": task.id,
            "name": task.name,
            "queue": task.queue,
            "payload": task.payload,
            "priority": task.priority,
            "max_attempts": task.max_attempts,
            "run_at": task.run_at,
            "delay": task.delay or 0.0,
            "dedup_key": task.dedup_key,
            "channel": self.channel,
        }

    def _many_params(self, tasks: Sequence[NewTask]) -> dict[str, object]:
        return {
            "ids": [t.id for t in tasks],
            "names": [t.name for t in tasks],
            "queues": [t.queue for t in tasks],
            "payloads": [t.payload for t in tasks],
            "priorities": [t.priority for t in tasks],
            "max_attempts": [t.max_attempts for t in tasks],
            "run_ats": [t.run_at for t in tasks],
            "delays": [t.delay for t in tasks],
            "dedup_keys": [t.dedup_key for t in tasks],
            "channel": self.channel,
        }

    async def _copy(
        self,
        conn: psycopg.AsyncConnection[Any],
        chunks: Iterable[Sequence[NewTask]],
        queues: set[str],
    ) -> None:
        """COPY the chunks: the fastest way in when no row needs ON CONFLICT or a clock.

        COPY's text format is written by hand: names and queues are plain (checked when
        registered) and compact JSON holds no tab or newline, so doubling backslashes is
        all the escaping needed; this is several times faster than a row at a time. Each
        chunk is sent as soon as it is formatted, so the server parses it while the next
        one is prepared.
        """
        async with conn.cursor().copy(self._sql.copy_tasks) as copy:
            for chunk in chunks:
                rows = []
                for t in chunk:
                    payload = t.payload.replace("\\", "\\\\")
                    rows.append(
                        f"{t.id.hex}\t{t.name}\t{t.queue}\t{payload}\t"
                        f"{t.priority}\t{t.max_attempts}\n"
                    )
                    queues.add(t.queue)
                await copy.write("".join(rows).encode())

    async def enqueue_in(self, transaction: SqlTransaction, tasks: Sequence[NewTask]) -> None:
        if not tasks:
            return
        # In chunks: a statement takes at most 65,535 parameters.
        for start in range(0, len(tasks), _IN_TRANSACTION_CHUNK):
            await self._enqueue_chunk_in(transaction, tasks[start : start + _IN_TRANSACTION_CHUNK])

    async def _enqueue_chunk_in(
        self, transaction: SqlTransaction, tasks: Sequence[NewTask]
    ) -> None:
        parameters: dict[str, object] = {"channel": self.channel}
        for i, task in enumerate(tasks):
            parameters |= {
                f"id_{i}": str(task.id),
                f"name_{i}": task.name,
                f"queue_{i}": task.queue,
                f"payload_{i}": task.payload,
                f"priority_{i}": task.priority,
                f"max_attempts_{i}": task.max_attempts,
                f"run_at_{i}": task.run_at,
                f"delay_{i}": task.delay or 0.0,
                f"dedup_key_{i}": task.dedup_key,
            }
        await transaction.execute_sql(self._sql.enqueue_in_transaction(len(tasks)), parameters)

    # Working

    def wakeups(self, queues: Sequence[str]) -> PostgresWakeups:
        conninfo = with_application_name(self._conninfo, "scaffold-tasks-listener")
        return PostgresWakeups(conninfo, self.channel, queues)

    async def set_concurrency_limits(self, limits: Mapping[str, int]) -> None:
        """Store this worker's limits; names registered without one lose any old limit."""
        limited = {name: n for name, n in limits.items() if n}
        async with self._connection() as conn, conn.transaction():
            if limited:
                await conn.execute(
                    self._sql.upsert_limits,
                    {"names": list(limited), "limits": list(limited.values())},
                )
            unlimited = [name for name, n in limits.items() if not n]
            if unlimited:
                await conn.execute(self._sql.delete_limits, {"names": unlimited})
        await self.refresh_limits()

    async def refresh_limits(self) -> None:
        """Learn whether any concurrency limit exists (claims then serialise on a lock)."""
        rows = await self._all(self._sql.read_limits, {})
        self._has_limits = bool(rows)

    async def claim(
        self, worker_id: str, queues: Sequence[str], limit: int, lease: float
    ) -> list[ClaimedTask]:
        params = {"queues": list(queues), "limit": limit, "worker": worker_id, "lease": lease}
        async with self._connection() as conn:
            if self._has_limits:
                async with conn.transaction():
                    await conn.execute(self._sql.limits_lock, {"key": self.channel})
                    cursor = await conn.execute(self._sql.claim_limited, params, binary=True)
                    rows = await cursor.fetchall()
            else:
                # Binary results: ids decode from 16 bytes instead of parsed text.
                cursor = await conn.execute(self._sql.claim, params, binary=True)
                rows = await cursor.fetchall()
        return [ClaimedTask(*row) for row in rows]

    async def acknowledge(
        self,
        worker_id: str,
        succeeded: Sequence[uuid.UUID],
        failed: Sequence[Failure],
        *,
        keep_done: bool,
    ) -> int:
        matched = 0
        async with self._connection() as conn:
            if succeeded:
                statement = self._sql.ack_done_keep if keep_done else self._sql.ack_done_delete
                cursor = await conn.execute(
                    statement, {"ids": list(succeeded), "worker": worker_id}
                )
                matched += cursor.rowcount
            if failed:
                cursor = await conn.execute(
                    self._sql.ack_failed,
                    {
                        "ids": [f.id for f in failed],
                        "errors": [f.error for f in failed],
                        "retry_in": [f.retry_in for f in failed],
                        "worker": worker_id,
                    },
                )
                requeued = await cursor.fetchall()
                matched += len(requeued)
        return matched

    async def extend_leases(
        self, worker_id: str, held: Sequence[uuid.UUID], lease: float
    ) -> list[uuid.UUID]:
        rows = await self._all(
            self._sql.extend_leases, {"held": list(held), "worker": worker_id, "lease": lease}
        )
        return [row[0] for row in rows]

    async def release(self, worker_id: str, ids: Sequence[uuid.UUID]) -> int:
        if not ids:
            return 0
        row = await self._one(
            self._sql.release, {"ids": list(ids), "worker": worker_id, "channel": self.channel}
        )
        return int(row[0])

    async def recover_expired(self) -> list[Recovered]:
        rows = await self._all(self._sql.recover_expired, {"channel": self.channel})
        await self.refresh_limits()
        return [Recovered(row[0], row[1], TaskState(row[2])) for row in rows]

    async def seconds_until_due(self, queues: Sequence[str]) -> float | None:
        row = await self._one(self._sql.seconds_until_due, {"queues": list(queues)})
        return None if row[0] is None else float(row[0])

    # Cron

    async def fire(self, ticks: Sequence[CronTick]) -> int:
        if not ticks:
            return 0
        row = await self._one(
            self._sql.fire_ticks,
            {
                "schedules": [t.schedule for t in ticks],
                "fire_times": [t.fire_time for t in ticks],
                "ids": [t.task.id for t in ticks],
                "names": [t.task.name for t in ticks],
                "queues": [t.task.queue for t in ticks],
                "payloads": [t.task.payload for t in ticks],
                "priorities": [t.task.priority for t in ticks],
                "max_attempts": [t.task.max_attempts for t in ticks],
                "channel": self.channel,
            },
        )
        return int(row[0])

    async def last_fire_times(self, schedules: Sequence[str]) -> dict[str, datetime.datetime]:
        rows = await self._all(self._sql.last_fire_times, {"schedules": list(schedules)})
        return {row[0]: row[1] for row in rows}

    # Operations

    async def list_tasks(
        self, *, states: Sequence[TaskState], queue: str | None, limit: int
    ) -> list[TaskInfo]:
        params = {"states": [str(s) for s in states], "queue": queue, "limit": limit}
        statement = self._sql.list_tasks if queue is None else self._sql.list_tasks_in_queue
        return [_task_info(row) for row in await self._all(statement, params)]

    async def get_task(self, task_id: uuid.UUID) -> TaskInfo | None:
        rows = await self._all(self._sql.get_task, {"id": task_id})
        return _task_info(rows[0]) if rows else None

    async def counts(self) -> list[QueueCount]:
        rows = await self._all(self._sql.counts, {})
        return [QueueCount(row[0], TaskState(row[1]), int(row[2])) for row in rows]

    async def retry_dead(self, ids: Sequence[uuid.UUID] | None, queue: str | None) -> int:
        if ids is None:
            params: dict[str, object] = {"queue": queue, "channel": self.channel}
            row = await self._one(self._sql.retry_dead_all, params)
        else:
            params = {"ids": list(ids), "channel": self.channel}
            row = await self._one(self._sql.retry_dead_ids, params)
        return int(row[0])

    async def purge(
        self, state: TaskState, ids: Sequence[uuid.UUID] | None, queue: str | None
    ) -> int:
        if ids is None:
            return await self._run(self._sql.purge_all, {"state": str(state), "queue": queue})
        return await self._run(self._sql.purge_ids, {"state": str(state), "ids": list(ids)})

    async def set_paused(self, queue: str, *, paused: bool) -> None:
        async with self._connection() as conn, conn.transaction():
            await conn.execute(self._sql.set_paused, {"queue": queue, "paused": paused})
            if not paused:
                await conn.execute(
                    self._sql.notify_queues, {"channel": self.channel, "queues": [queue]}
                )

    async def paused_queues(self) -> list[str]:
        return [row[0] for row in await self._all(self._sql.paused_queues, {})]

    async def prune(self, older_than: float) -> int:
        total = 0
        while True:
            params = {"older_than": older_than, "before": first_id_at(time.time() - older_than)}
            deleted = await self._run(self._sql.prune_done, params)
            total += deleted
            if deleted < 10000:  # noqa: PLR2004 - the batch size of prune_done
                break
        # Ticks are kept for a week so a restarted scheduler knows what already fired.
        await self._run(self._sql.prune_ticks, {"older_than": max(older_than, 7 * 86400.0)})
        return total


def _task_info(row: tuple[Any, ...]) -> TaskInfo:
    values = list(row)
    values[3] = TaskState(values[3])
    return TaskInfo(*values)
