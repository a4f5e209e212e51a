"""`TaskQueue`: what application services use to put tasks on the queue."""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING, Any, Self, cast

from ._admin import TaskAdmin
from ._durations import Duration, seconds
from ._errors import QueueUnavailableError
from ._ids import new_task_id, new_task_ids
from ._records import NewTask
from ._registry import check_priority
from ._task import check_name
from ._urls import backend_from_url

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable, Iterator
    from types import TracebackType

    from ._backend import TaskBackend
    from ._registry import TaskRegistry
    from .types import SqlTransaction

_MAX_DEDUP_KEY = 500
_CHUNK = 1000


def _check_run_at(value: object) -> None:
    if value is not None and (not isinstance(value, datetime.datetime) or value.tzinfo is None):
        raise ValueError(f"run_at must be a timezone-aware datetime, not {value!r}")


def _check_dedup_key(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not 0 < len(value) <= _MAX_DEDUP_KEY):
        raise ValueError(f"dedup_key must be a string of 1 to {_MAX_DEDUP_KEY} characters")
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class EnqueueRequest[T]:
    """One task of a batch with its own options (see `TaskQueue.enqueue`)."""

    task: T
    run_at: datetime.datetime | None = None
    delay: Duration | None = None
    priority: int | None = None
    queue: str | None = None
    dedup_key: str | None = None


class TaskQueue:
    """Enqueues registered tasks on a backend (PostgreSQL, SQLite or memory).

    ```python
    queue = TaskQueue(PostgresBackend("postgresql://localhost/app"), registry)
    await queue.enqueue(ReplyToConversationTask(user_id))
    ```
    """

    def __init__(self, backend: TaskBackend, registry: TaskRegistry) -> None:
        self._backend = backend
        self._registry = registry
        self._admin = TaskAdmin(backend)

    def __repr__(self) -> str:
        return f"TaskQueue({self._backend!r}, {len(self._registry)} task types)"

    @classmethod
    def from_url(cls, url: str, registry: TaskRegistry, **options: Any) -> Self:  # noqa: ANN401 - backend options
        """A queue on the backend `url` names: postgresql://..., sqlite:///file.db, memory://."""
        return cls(backend_from_url(url, **options), registry)

    @property
    def backend(self) -> TaskBackend:
        return self._backend

    @property
    def registry(self) -> TaskRegistry:
        return self._registry

    @property
    def admin(self) -> TaskAdmin:
        """Operations on the stored tasks: list, retry, purge, pause, prune, counts."""
        return self._admin

    async def open(self) -> None:
        await self._backend.open()

    async def close(self) -> None:
        await self._backend.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def migrate(self) -> int:
        """Create or upgrade the queue's tables; returns the schema version now in place."""
        return await self._backend.migrate()

    async def check_schema(self) -> None:
        """Raise `SchemaVersionError`, naming the command to run, unless the schema fits."""
        await self._backend.check_schema()

    async def enqueue[T](
        self,
        task: T,
        *,
        run_at: datetime.datetime | None = None,
        delay: Duration | None = None,
        priority: int | None = None,
        queue: str | None = None,
        dedup_key: str | None = None,
        transaction: SqlTransaction | None = None,
    ) -> uuid.UUID | None:
        """Queue `task` for a worker; returns its id.

        Parameters:
            run_at: not before this (timezone-aware) moment.
            delay: not before this many seconds (or this timedelta) from now, on the
                database's clock.
            priority: higher runs first (default: the task type's).
            queue: the queue to put it on (default: the task type's).
            dedup_key: skip the task if an unfinished task (queued or running) has the same
                key; then None is returned instead of an id.
            transaction: write the task inside this open transaction (a unit of work), so
                the task exists if and only if the transaction commits. The returned id is
                then that of the row the commit will create (dedup conflicts are not seen).
        """
        request = EnqueueRequest(task, run_at, delay, priority, queue, dedup_key)
        new = self._new_task(request)
        if transaction is not None:
            self._check_transaction(transaction)
            await self._backend.enqueue_in(transaction, [new])
            return new.id
        written = await self._with_retry([new])
        return new.id if written[0] else None

    async def enqueue_many(
        self,
        tasks: Iterable[object],
        *,
        transaction: SqlTransaction | None = None,
    ) -> list[uuid.UUID | None]:
        """Queue many tasks in one round trip; items may be tasks or `EnqueueRequest`s.

        Returns one entry per item: the task's id, or None where a dedup key matched.
        """
        items = list(tasks)
        if transaction is None and not any(isinstance(i, EnqueueRequest) for i in items):
            return await self._enqueue_plain(items)
        new = self._new_tasks(items)
        if transaction is not None:
            self._check_transaction(transaction)
            await self._backend.enqueue_in(transaction, new)
            return [t.id for t in new]
        written = await self._with_retry(new)
        return [t.id if ok else None for t, ok in zip(new, written, strict=True)]

    async def _enqueue_plain(self, items: list[object]) -> list[uuid.UUID | None]:
        """Tasks with their types' defaults: prepared a chunk at a time while the backend
        writes the previous chunk (COPY on PostgreSQL), all in one transaction."""
        if not items:
            return []
        prepared: list[list[NewTask]] = []

        def chunks() -> Iterator[list[NewTask]]:
            # A retry replays what was prepared (same ids), then goes on preparing.
            yield from list(prepared)
            for start in range(sum(map(len, prepared)), len(items), _CHUNK):
                chunk = self._new_tasks(items[start : start + _CHUNK])
                prepared.append(chunk)
                yield chunk

        try:
            await self._backend.enqueue_plain(chunks())
        except QueueUnavailableError:
            # Once: a pooled connection may have died since its last use.
            await self._backend.enqueue_plain(chunks(), retry=True)
        return [task.id for chunk in prepared for task in chunk]

    async def _with_retry(self, tasks: list[NewTask]) -> list[bool]:
        try:
            return await self._backend.enqueue(tasks)
        except QueueUnavailableError:
            # Once: a pooled connection may have died since its last use. Ids are made
            # here, so a write that did reach the database is not duplicated.
            return await self._backend.enqueue(tasks)

    def _check_transaction(self, transaction: SqlTransaction) -> None:
        dialect = getattr(transaction, "dialect_name", None)
        if self._backend.dialect not in {"memory", dialect}:
            raise ValueError(
                f"cannot enqueue through a {dialect!r} transaction on a "
                f"{self._backend.dialect} task queue: the unit of work must use the queue's "
                "database"
            )

    def _new_tasks(self, items: list[object]) -> list[NewTask]:
        """The rows of a batch. Plain tasks (the common case) take their type's defaults
        and are serialised a type at a time, which is several times faster."""
        # Ids in the order of the batch: among equal priorities, tasks run in id order.
        ids = new_task_ids(len(items))
        new: list[NewTask | None] = [None] * len(items)
        plain: dict[type, list[int]] = {}
        for i, item in enumerate(items):
            if isinstance(item, EnqueueRequest):
                new[i] = self._new_task(item, ids[i])
            else:
                plain.setdefault(type(item), []).append(i)
        for indexes in plain.values():
            definition = self._registry.for_task(items[indexes[0]])
            payloads = definition.encode_many([items[i] for i in indexes])
            name, queue = definition.name, definition.queue
            priority, attempts = definition.priority, definition.max_attempts
            for i, payload in zip(indexes, payloads, strict=True):
                new[i] = NewTask(ids[i], name, queue, payload, priority, attempts)
        return cast("list[NewTask]", new)  # every slot is filled above

    def _new_task(
        self, request: EnqueueRequest[object], task_id: uuid.UUID | None = None
    ) -> NewTask:
        definition = self._registry.for_task(request.task)
        if request.run_at is not None and request.delay is not None:
            raise ValueError("give run_at or delay, not both")
        _check_run_at(request.run_at)
        key = _check_dedup_key(request.dedup_key)
        queue = definition.queue if request.queue is None else check_name(request.queue, "queue")
        priority = definition.priority if request.priority is None else request.priority
        return NewTask(
            id=task_id or new_task_id(),
            name=definition.name,
            queue=queue,
            payload=definition.encode(request.task),
            priority=check_priority(priority),
            max_attempts=definition.max_attempts,
            run_at=request.run_at,
            delay=None if request.delay is None else seconds(request.delay, "delay"),
            dedup_key=key,
        )
