"""What a storage backend does for the queue, the worker, the scheduler and the admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import asyncio
    import datetime
    import uuid
    from collections.abc import Iterable, Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

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
    from .types import SqlTransaction


class Wakeups(Protocol):
    """Hints that new work may be there; a worker still polls, as a hint can be lost.

    The backend sets `event` when work may have arrived; the worker clears it before it
    claims, and sets it itself to interrupt an idle wait (when it is asked to stop).
    """

    @property
    def event(self) -> asyncio.Event: ...


class TaskBackend(Protocol):
    """Where tasks are stored: PostgreSQL, SQLite or memory, with the same semantics."""

    @property
    def dialect(self) -> str:
        """ "postgresql", "sqlite" or "memory"."""
        ...

    @property
    def default_poll_interval(self) -> float: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    # Schema
    async def migrate(self) -> int: ...

    async def check_schema(self) -> None: ...

    # Enqueueing
    async def enqueue(self, tasks: Sequence[NewTask]) -> list[bool]:
        """Write the tasks; per task, False when its dedup key matched an unfinished task."""
        ...

    async def enqueue_plain(
        self, chunks: Iterable[Sequence[NewTask]], *, retry: bool = False
    ) -> None:
        """Write a batch of tasks without dedup key or schedule, all in one transaction.

        `chunks` is consumed lazily, so that the caller prepares the next chunk while the
        database takes in the previous one. With `retry`, rows already written by a
        failed earlier attempt (same ids) are skipped instead of failing the batch.
        """
        ...

    async def enqueue_in(self, transaction: SqlTransaction, tasks: Sequence[NewTask]) -> None: ...

    # Working
    def wakeups(self, queues: Sequence[str]) -> AbstractAsyncContextManager[Wakeups]: ...

    async def set_concurrency_limits(self, limits: Mapping[str, int]) -> None: ...

    async def claim(
        self, worker_id: str, queues: Sequence[str], limit: int, lease: float
    ) -> list[ClaimedTask]: ...

    async def acknowledge(
        self,
        worker_id: str,
        succeeded: Sequence[uuid.UUID],
        failed: Sequence[Failure],
        *,
        keep_done: bool,
    ) -> int:
        """Record outcomes; returns how many of them still held this worker's lease."""
        ...

    async def extend_leases(
        self, worker_id: str, held: Sequence[uuid.UUID], lease: float
    ) -> list[uuid.UUID]:
        """Renew the leases of `held`; release this worker's other running tasks (claims
        whose reply was lost). Returns the held ids whose lease was already lost."""
        ...

    async def release(self, worker_id: str, ids: Sequence[uuid.UUID]) -> int: ...

    async def recover_expired(self) -> list[Recovered]: ...

    async def seconds_until_due(self, queues: Sequence[str]) -> float | None: ...

    # Cron
    async def fire(self, ticks: Sequence[CronTick]) -> int: ...

    async def last_fire_times(self, schedules: Sequence[str]) -> dict[str, datetime.datetime]: ...

    # Operations
    async def list_tasks(
        self, *, states: Sequence[TaskState], queue: str | None, limit: int
    ) -> list[TaskInfo]: ...

    async def get_task(self, task_id: uuid.UUID) -> TaskInfo | None: ...

    async def counts(self) -> list[QueueCount]: ...

    async def retry_dead(self, ids: Sequence[uuid.UUID] | None, queue: str | None) -> int: ...

    async def purge(
        self, state: TaskState, ids: Sequence[uuid.UUID] | None, queue: str | None
    ) -> int: ...

    async def set_paused(self, queue: str, *, paused: bool) -> None: ...

    async def paused_queues(self) -> list[str]: ...

    async def prune(self, older_than: float) -> int: ...
