"""`InMemoryTaskQueue`: a task queue for the unit tests of code that enqueues tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._memory import InMemoryBackend
from ._queue import TaskQueue
from ._records import TaskState
from ._scheduler import utc_now
from ._settings import WorkerSettings
from ._worker import Worker

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable

    from ._counters import WorkerCounters
    from ._registry import TaskRegistry
    from .types import HandlerResolver


class InMemoryTaskQueue(TaskQueue):
    """A `TaskQueue` in memory, with helpers to look at and run what was enqueued.

    ```python
    queue = InMemoryTaskQueue(registry)
    await UserService(queue).sign_up("ada@example.com")
    assert queue.enqueued() == [SendWelcomeEmailTask(email="ada@example.com")]
    await queue.run_pending(resolver)   # run them through a real worker
    ```
    """

    def __init__(
        self, registry: TaskRegistry, *, clock: Callable[[], datetime.datetime] = utc_now
    ) -> None:
        self._memory = InMemoryBackend(clock=clock)
        super().__init__(self._memory, registry)

    def _tasks(self, states: set[TaskState] | None) -> list[object]:
        rows = sorted(self._memory._rows.values(), key=lambda r: (r.created_at, r.id))  # noqa: SLF001 - the backend is this class's own
        found: list[object] = []
        for row in rows:
            if states is not None and row.state not in states:
                continue
            definition = self.registry.by_name(row.name)
            if definition is not None:
                found.append(definition.decode(row.payload))
        return found

    def enqueued(self) -> list[object]:
        """Every task still stored, in the order it was enqueued, whatever its state."""
        return self._tasks(None)

    def pending(self) -> list[object]:
        """The tasks waiting to run (queued, including retries waiting for their time)."""
        return self._tasks({TaskState.QUEUED})

    def dead(self) -> list[object]:
        """The tasks that failed for good."""
        return self._tasks({TaskState.DEAD})

    async def run_pending(
        self, resolver: HandlerResolver | None = None, *, queues: tuple[str, ...] | None = None
    ) -> WorkerCounters:
        """Run every due task with a real worker, then return its counters."""
        stored = {row.queue for row in self._memory._rows.values()}  # noqa: SLF001 - see above
        wanted = queues or tuple(sorted(stored)) or ("default",)
        worker = Worker(self, resolver=resolver, settings=WorkerSettings(queues=wanted))
        return await worker.run_until_idle()
