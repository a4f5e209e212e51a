"""Plain records passed between the queue, the worker and the storage backends."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import NamedTuple


class TaskState(enum.StrEnum):
    """Where a task is in its life: queued (also while waiting for a retry), running,
    done, or dead (failed for good, holding its last error until retried or purged)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


@dataclasses.dataclass(slots=True)  # not frozen: batches create thousands, and it is faster
class NewTask:
    """A task about to be written: its JSON payload and when and where it runs.

    `run_at` is absolute; `delay` is counted on the database's clock when it is written.
    """

    id: uuid.UUID
    name: str
    queue: str
    payload: str
    priority: int
    max_attempts: int
    run_at: datetime.datetime | None = None
    delay: float | None = None
    dedup_key: str | None = None

    @property
    def scheduled(self) -> bool:
        return self.run_at is not None or bool(self.delay)


class ClaimedTask(NamedTuple):
    """A task a worker has claimed: it holds the lease until it acknowledges the outcome.

    A named tuple: thousands are made per second straight from database rows.
    """

    id: uuid.UUID
    name: str
    queue: str
    payload: str
    attempt: int
    max_attempts: int


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """The outcome of a failed attempt: retried after `retry_in` seconds, or dead if None."""

    id: uuid.UUID
    error: str
    retry_in: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class CronTick:
    """One firing of a schedule: at most one task is ever written per (schedule, fire_time)."""

    schedule: str
    fire_time: datetime.datetime
    task: NewTask


@dataclasses.dataclass(frozen=True, slots=True)
class TaskInfo:
    """What the admin operations show about one task."""

    id: uuid.UUID
    name: str
    queue: str
    state: TaskState
    priority: int
    run_at: datetime.datetime
    attempts: int
    max_attempts: int
    dedup_key: str | None
    worker_id: str | None
    last_error: str | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    payload: str


@dataclasses.dataclass(frozen=True, slots=True)
class QueueCount:
    """How many tasks one queue holds in one state."""

    queue: str
    state: TaskState
    count: int


@dataclasses.dataclass(frozen=True, slots=True)
class Recovered:
    """A task whose worker stopped renewing its lease, requeued or dead-lettered."""

    id: uuid.UUID
    name: str
    state: TaskState
