import abc
import dataclasses

from .uow import UnitOfWork


@dataclasses.dataclass(frozen=True)
class Task:
    """A unit of background work; subclasses are frozen dataclasses of plain values."""


@dataclasses.dataclass(frozen=True)
class TaskAttempt:
    """Which run of a background task this is; the worker provides it to the task's handler."""

    number: int
    is_last: bool


class TaskQueue(abc.ABC):
    @abc.abstractmethod
    async def enqueue(self, task: Task, *, within: UnitOfWork | None = None) -> None:
        """Queue the task; `within` makes it part of that unit of work's transaction."""
