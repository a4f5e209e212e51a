"""The seams between scaffold-tasks and the code around it.

- `SqlTransaction`: what a unit of work offers so that `enqueue(task, transaction=uow)`
  writes the task in the caller's transaction (scaffold-persistence implements it).
- `HandlerResolver`: how the worker gets a handler instance for one execution
  (`scaffold.tasks.ContainerResolver` implements it on top of scaffold-di).
- `TaskContext`: what the worker knows about the execution in progress; the container
  resolver makes it injectable into handlers.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple, Protocol


class SqlTransaction(Protocol):
    """An open database transaction the task queue may write through.

    `dialect_name` is SQLAlchemy's name of the database: "postgresql" or "sqlite".
    `execute_sql` runs one statement with SQLAlchemy `text()`-style `:name` parameters
    inside the transaction; the task exists if and only if the transaction commits.
    """

    @property
    def dialect_name(self) -> str: ...

    async def execute_sql(self, statement: str, parameters: Mapping[str, object]) -> None: ...


class TaskContext(NamedTuple):
    """The execution in progress: which task, which attempt, on which worker.

    Immutable; a named tuple because one is made for every execution.
    """

    task_id: uuid.UUID
    task_name: str
    queue: str
    attempt: int
    max_attempts: int
    worker_id: str

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    @property
    def enqueued_at(self) -> datetime.datetime:
        """When the task was enqueued (task ids are UUIDv7: they carry the millisecond)."""
        milliseconds = self.task_id.int >> 80
        return datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC)


class HandlerResolver(Protocol):
    """Gives the worker a handler for one execution, inside a scope that ends with it."""

    def __call__[H](
        self, handler_type: type[H], context: TaskContext
    ) -> AbstractAsyncContextManager[H]: ...
