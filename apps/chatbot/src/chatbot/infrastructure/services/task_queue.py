from typing import override

from chatbot.application.interfaces import Task, TaskAttempt, TaskQueue, UnitOfWork
from chatbot.infrastructure.persistence.uow import SqlUnitOfWork
from scaffold.tasks import TaskContext
from scaffold.tasks import TaskQueue as DurableTaskQueue


class ScaffoldTaskQueue(TaskQueue):
    """The application's task queue on scaffold-tasks."""

    def __init__(self, queue: DurableTaskQueue) -> None:
        self.queue = queue

    @override
    async def enqueue(self, task: Task, *, within: UnitOfWork | None = None) -> None:
        if within is None:
            await self.queue.enqueue(task)
        elif isinstance(within, SqlUnitOfWork):
            # Written in the unit of work's transaction: the task exists iff it commits.
            await self.queue.enqueue(task, transaction=within)
        else:
            raise TypeError(
                f"cannot enqueue inside {type(within).__name__}: only the SQL unit of work "
                "shares its transaction with the task queue"
            )


def task_attempt(context: TaskContext) -> TaskAttempt:
    """The attempt in progress, from the worker's context of the execution."""
    return TaskAttempt(number=context.attempt, is_last=context.is_last_attempt)
