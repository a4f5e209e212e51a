"""The in-memory backend: the queue's semantics without a database, for unit tests.

It stores what the SQL backends store (JSON payloads, states, attempts, leases), so a
task that cannot be serialised fails here as it would in production. It lives in one
process and takes part in no transaction: `enqueue(..., transaction=uow)` records the
task at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
from typing import TYPE_CHECKING, Final

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
from ._scheduler import utc_now

if TYPE_CHECKING:
    import uuid
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence

    from .types import SqlTransaction


@dataclasses.dataclass(slots=True)
class _Row:
    id: uuid.UUID
    name: str
    queue: str
    payload: str
    priority: int
    run_at: datetime.datetime
    max_attempts: int
    dedup_key: str | None
    created_at: datetime.datetime
    state: TaskState = TaskState.QUEUED
    attempts: int = 0
    worker_id: str | None = None
    lease_expires_at: datetime.datetime | None = None
    last_error: str | None = None
    finished_at: datetime.datetime | None = None

    def info(self) -> TaskInfo:
        return TaskInfo(
            id=self.id,
            name=self.name,
            queue=self.queue,
            state=self.state,
            priority=self.priority,
            run_at=self.run_at,
            attempts=self.attempts,
            max_attempts=self.max_attempts,
            dedup_key=self.dedup_key,
            worker_id=self.worker_id,
            last_error=self.last_error,
            created_at=self.created_at,
            finished_at=self.finished_at,
            payload=self.payload,
        )


class _MemoryWakeups:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def event(self) -> asyncio.Event:
        return self._event


class InMemoryBackend:
    """Tasks in a dict. `clock` gives the current time (aware); tests may move it on."""

    dialect: Final = "memory"
    default_poll_interval: Final = 0.05

    def __init__(self, *, clock: Callable[[], datetime.datetime] = utc_now) -> None:
        self._clock = clock
        self._rows: dict[uuid.UUID, _Row] = {}
        self._paused: set[str] = set()
        self._limits: dict[str, int] = {}
        self._ticks: dict[tuple[str, datetime.datetime], uuid.UUID] = {}
        self._subscribers: set[_MemoryWakeups] = set()

    def __repr__(self) -> str:
        return f"InMemoryBackend({len(self._rows)} tasks)"

    def now(self) -> datetime.datetime:
        return self._clock()

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def migrate(self) -> int:
        return 1

    async def check_schema(self) -> None:
        pass

    def _wake(self) -> None:
        for subscriber in self._subscribers:
            subscriber.event.set()

    def _insert(self, task: NewTask, now: datetime.datetime) -> bool:
        if task.dedup_key is not None and any(
            r.dedup_key == task.dedup_key and r.state in {TaskState.QUEUED, TaskState.RUNNING}
            for r in self._rows.values()
        ):
            return False
        if task.id in self._rows:
            return False
        run_at = task.run_at or now + datetime.timedelta(seconds=task.delay or 0.0)
        self._rows[task.id] = _Row(
            id=task.id,
            name=task.name,
            queue=task.queue,
            payload=task.payload,
            priority=task.priority,
            run_at=run_at,
            max_attempts=task.max_attempts,
            dedup_key=task.dedup_key,
            created_at=now,
        )
        return True

    async def enqueue(self, tasks: Sequence[NewTask]) -> list[bool]:
        now = self.now()
        written = [self._insert(task, now) for task in tasks]
        self._wake()
        return written

    async def enqueue_plain(
        self, chunks: Iterable[Sequence[NewTask]], *, retry: bool = False
    ) -> None:
        del retry  # a task whose id is stored already is skipped anyway
        await self.enqueue([task for chunk in chunks for task in chunk])

    async def enqueue_in(self, transaction: SqlTransaction, tasks: Sequence[NewTask]) -> None:  # noqa: ARG002 - no transactions in memory
        await self.enqueue(tasks)

    @contextlib.asynccontextmanager
    async def wakeups(self, queues: Sequence[str]) -> AsyncIterator[_MemoryWakeups]:  # noqa: ARG002 - every enqueue wakes every worker
        subscriber = _MemoryWakeups()
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def set_concurrency_limits(self, limits: Mapping[str, int]) -> None:
        for name, limit in limits.items():
            if limit:
                self._limits[name] = limit
            else:
                self._limits.pop(name, None)

    async def claim(
        self, worker_id: str, queues: Sequence[str], limit: int, lease: float
    ) -> list[ClaimedTask]:
        now = self.now()
        active = set(queues) - self._paused
        due = sorted(
            (
                r
                for r in self._rows.values()
                if r.state is TaskState.QUEUED and r.queue in active and r.run_at <= now
            ),
            key=lambda r: (-r.priority, r.run_at, r.id),
        )
        running: dict[str, int] = {}
        for row in self._rows.values():
            if row.state is TaskState.RUNNING:
                running[row.name] = running.get(row.name, 0) + 1
        claimed: list[ClaimedTask] = []
        for row in due:
            if len(claimed) >= limit:
                break
            cap = self._limits.get(row.name)
            if cap is not None and running.get(row.name, 0) >= cap:
                continue
            running[row.name] = running.get(row.name, 0) + 1
            row.state = TaskState.RUNNING
            row.attempts += 1
            row.worker_id = worker_id
            row.lease_expires_at = now + datetime.timedelta(seconds=lease)
            claimed.append(
                ClaimedTask(
                    row.id,
                    row.name,
                    row.queue,
                    row.payload,
                    row.attempts,
                    row.max_attempts,
                )
            )
        return claimed

    def _held_by(self, task_id: uuid.UUID, worker_id: str) -> _Row | None:
        row = self._rows.get(task_id)
        if row is None or row.state is not TaskState.RUNNING or row.worker_id != worker_id:
            return None
        return row

    async def acknowledge(
        self,
        worker_id: str,
        succeeded: Sequence[uuid.UUID],
        failed: Sequence[Failure],
        *,
        keep_done: bool,
    ) -> int:
        now = self.now()
        matched = 0
        for task_id in succeeded:
            row = self._held_by(task_id, worker_id)
            if row is None:
                continue
            matched += 1
            if keep_done:
                row.state, row.finished_at, row.lease_expires_at = TaskState.DONE, now, None
            else:
                del self._rows[task_id]
        for failure in failed:
            row = self._held_by(failure.id, worker_id)
            if row is None:
                continue
            matched += 1
            row.last_error = failure.error
            row.lease_expires_at = None
            if failure.retry_in is None:
                row.state, row.finished_at = TaskState.DEAD, now
            else:
                row.state = TaskState.QUEUED
                row.run_at = now + datetime.timedelta(seconds=failure.retry_in)
        if failed:
            self._wake()
        return matched

    async def extend_leases(
        self, worker_id: str, held: Sequence[uuid.UUID], lease: float
    ) -> list[uuid.UUID]:
        now = self.now()
        held_set = set(held)
        lost: list[uuid.UUID] = []
        for task_id in held:
            row = self._held_by(task_id, worker_id)
            if row is None:
                lost.append(task_id)
            else:
                row.lease_expires_at = now + datetime.timedelta(seconds=lease)
        for row in self._rows.values():
            if (row.state is TaskState.RUNNING and row.worker_id == worker_id
                    and row.id not in held_set):  # fmt: skip
                self._requeue(row, now)
        return lost

    def _requeue(self, row: _Row, now: datetime.datetime) -> None:
        row.state, row.worker_id, row.lease_expires_at = TaskState.QUEUED, None, None
        row.attempts = max(row.attempts - 1, 0)
        row.run_at = now

    async def release(self, worker_id: str, ids: Sequence[uuid.UUID]) -> int:
        now = self.now()
        released = 0
        for task_id in ids:
            row = self._held_by(task_id, worker_id)
            if row is not None:
                self._requeue(row, now)
                released += 1
        if released:
            self._wake()
        return released

    async def recover_expired(self) -> list[Recovered]:
        now = self.now()
        recovered: list[Recovered] = []
        for row in self._rows.values():
            expiry = row.lease_expires_at
            if row.state is not TaskState.RUNNING or expiry is None or expiry >= now:
                continue
            row.last_error = (
                f"worker {row.worker_id} stopped renewing its lease during attempt "
                f"{row.attempts} of {row.max_attempts} (it crashed, was killed or lost the "
                "database)"
            )
            row.worker_id, row.lease_expires_at, row.run_at = None, None, now
            if row.attempts >= row.max_attempts:
                row.state, row.finished_at = TaskState.DEAD, now
            else:
                row.state = TaskState.QUEUED
            recovered.append(Recovered(row.id, row.name, row.state))
        if recovered:
            self._wake()
        return recovered

    async def seconds_until_due(self, queues: Sequence[str]) -> float | None:
        wanted = set(queues)
        times = [
            r.run_at for r in self._rows.values()
            if r.state is TaskState.QUEUED and r.queue in wanted
        ]  # fmt: skip
        if not times:
            return None
        return (min(times) - self.now()).total_seconds()

    async def fire(self, ticks: Sequence[CronTick]) -> int:
        now = self.now()
        created = 0
        for tick in ticks:
            key = (tick.schedule, tick.fire_time)
            if key in self._ticks:
                continue
            self._ticks[key] = tick.task.id
            created += self._insert(tick.task, now)
        if created:
            self._wake()
        return created

    async def last_fire_times(self, schedules: Sequence[str]) -> dict[str, datetime.datetime]:
        wanted = set(schedules)
        last: dict[str, datetime.datetime] = {}
        for schedule, fire_time in self._ticks:
            if schedule in wanted and (schedule not in last or fire_time > last[schedule]):
                last[schedule] = fire_time
        return last

    async def list_tasks(
        self, *, states: Sequence[TaskState], queue: str | None, limit: int
    ) -> list[TaskInfo]:
        rows = [
            r for r in self._rows.values()
            if r.state in states and (queue is None or r.queue == queue)
        ]  # fmt: skip
        rows.sort(key=lambda r: (r.created_at, r.id))
        return [r.info() for r in rows[:limit]]

    async def get_task(self, task_id: uuid.UUID) -> TaskInfo | None:
        row = self._rows.get(task_id)
        return None if row is None else row.info()

    async def counts(self) -> list[QueueCount]:
        totals: dict[tuple[str, TaskState], int] = {}
        for row in self._rows.values():
            totals[row.queue, row.state] = totals.get((row.queue, row.state), 0) + 1
        return [QueueCount(q, s, n) for (q, s), n in sorted(totals.items())]

    def _select(
        self, state: TaskState, ids: Sequence[uuid.UUID] | None, queue: str | None
    ) -> list[_Row]:
        wanted = None if ids is None else set(ids)
        return [
            r
            for r in self._rows.values()
            if r.state is state
            and (wanted is None or r.id in wanted)
            and (queue is None or r.queue == queue)
        ]

    async def retry_dead(self, ids: Sequence[uuid.UUID] | None, queue: str | None) -> int:
        rows = self._select(TaskState.DEAD, ids, queue)
        now = self.now()
        for row in rows:
            row.state, row.attempts, row.run_at = TaskState.QUEUED, 0, now
            row.finished_at, row.worker_id = None, None
        if rows:
            self._wake()
        return len(rows)

    async def purge(
        self, state: TaskState, ids: Sequence[uuid.UUID] | None, queue: str | None
    ) -> int:
        rows = self._select(state, ids, queue)
        for row in rows:
            del self._rows[row.id]
        return len(rows)

    async def set_paused(self, queue: str, *, paused: bool) -> None:
        if paused:
            self._paused.add(queue)
        else:
            self._paused.discard(queue)
            self._wake()

    async def paused_queues(self) -> list[str]:
        return sorted(self._paused)

    async def prune(self, older_than: float) -> int:
        cutoff = self.now() - datetime.timedelta(seconds=older_than)
        old = [
            r.id for r in self._rows.values()
            if r.state is TaskState.DONE and r.finished_at is not None and r.finished_at < cutoff
        ]  # fmt: skip
        for task_id in old:
            del self._rows[task_id]
        return len(old)
