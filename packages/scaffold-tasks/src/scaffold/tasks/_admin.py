"""Operations on stored tasks, for the admin CLI and for code: list, retry, purge, pause."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from ._durations import Duration, seconds
from ._records import TaskState
from ._task import check_name

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from ._backend import TaskBackend
    from ._records import QueueCount, TaskInfo


class TaskAdmin:
    """Look at and repair what the queue holds; every method is one short transaction."""

    def __init__(self, backend: TaskBackend) -> None:
        self._backend = backend

    async def list(
        self,
        state: TaskState | str | Sequence[TaskState | str] = (TaskState.QUEUED, TaskState.RUNNING),
        *,
        queue: str | None = None,
        limit: int = 100,
    ) -> builtins.list[TaskInfo]:
        """Tasks in the given state(s), oldest first."""
        states = [TaskState(state)] if isinstance(state, str) else [TaskState(s) for s in state]
        if limit < 1:
            raise ValueError(f"limit must be >= 1, not {limit}")
        return await self._backend.list_tasks(states=states, queue=queue, limit=limit)

    async def get(self, task_id: uuid.UUID) -> TaskInfo | None:
        return await self._backend.get_task(task_id)

    async def counts(self) -> builtins.list[QueueCount]:
        """How many tasks each queue holds per state (for dashboards and metrics)."""
        return await self._backend.counts()

    async def retry_dead(
        self, ids: Sequence[uuid.UUID] | None = None, *, queue: str | None = None
    ) -> int:
        """Queue dead tasks again with a fresh attempt count; all of them when `ids` is None."""
        return await self._backend.retry_dead(None if ids is None else list(ids), queue)

    async def purge_dead(
        self, ids: Sequence[uuid.UUID] | None = None, *, queue: str | None = None
    ) -> int:
        """Delete dead tasks for good; all of them when `ids` is None."""
        return await self._backend.purge(TaskState.DEAD, None if ids is None else list(ids), queue)

    async def purge_queued(
        self, ids: Sequence[uuid.UUID] | None = None, *, queue: str | None = None
    ) -> int:
        """Delete queued tasks that have not started; all of them when `ids` is None."""
        return await self._backend.purge(
            TaskState.QUEUED, None if ids is None else list(ids), queue
        )

    async def pause(self, queue: str) -> None:
        """Stop workers from claiming tasks of `queue`; running tasks finish."""
        await self._backend.set_paused(check_name(queue, "queue"), paused=True)

    async def resume(self, queue: str) -> None:
        await self._backend.set_paused(check_name(queue, "queue"), paused=False)

    async def paused(self) -> builtins.list[str]:
        return await self._backend.paused_queues()

    async def prune(self, older_than: Duration) -> int:
        """Delete done tasks that finished longer ago than `older_than`; returns how many."""
        return await self._backend.prune(seconds(older_than, "older_than"))
