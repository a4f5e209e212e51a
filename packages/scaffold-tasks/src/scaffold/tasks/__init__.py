"""scaffold.tasks: background work for Scaffold applications.

- `TaskManager` runs coroutines in the background of the current process.
- `TaskQueue` stores tasks durably (PostgreSQL, SQLite, or memory for tests) and
  `Worker` runs them in any number of processes, with retries, dead letters, leases,
  per-type concurrency limits and cron schedules.
- `scaffold.tasks.cli` holds the `worker` command and the `tasks` admin group.
"""

from ._admin import TaskAdmin
from ._backend import TaskBackend, Wakeups
from ._container_resolver import ContainerResolver
from ._counters import WorkerCounters
from ._cron import CronExpression
from ._errors import (
    QueueUnavailableError,
    SchemaVersionError,
    TaskFailedPermanentlyError,
    TaskQueueError,
    TaskRegistrationError,
    UnknownTaskError,
)
from ._manager import TaskManager
from ._memory import InMemoryBackend
from ._postgres import PostgresBackend
from ._queue import EnqueueRequest, TaskQueue
from ._records import QueueCount, TaskInfo, TaskState
from ._registry import TaskDefinition, TaskRegistry
from ._resolvers import construct_handler
from ._retry import RetryPolicy
from ._schedule import CatchUp, CronSchedule
from ._scheduler import Scheduler
from ._settings import WorkerSettings
from ._sqlite import SqliteBackend
from ._task import GenericBaseTaskHandler, Task, TaskHandler
from ._testing import InMemoryTaskQueue
from ._urls import backend_from_url
from ._worker import Worker
from .types import HandlerResolver, SqlTransaction, TaskContext

__all__ = [
    "CatchUp",
    "ContainerResolver",
    "CronExpression",
    "CronSchedule",
    "EnqueueRequest",
    "GenericBaseTaskHandler",
    "HandlerResolver",
    "InMemoryBackend",
    "InMemoryTaskQueue",
    "PostgresBackend",
    "QueueCount",
    "QueueUnavailableError",
    "RetryPolicy",
    "Scheduler",
    "SchemaVersionError",
    "SqlTransaction",
    "SqliteBackend",
    "Task",
    "TaskAdmin",
    "TaskBackend",
    "TaskContext",
    "TaskDefinition",
    "TaskFailedPermanentlyError",
    "TaskHandler",
    "TaskInfo",
    "TaskManager",
    "TaskQueue",
    "TaskQueueError",
    "TaskRegistrationError",
    "TaskRegistry",
    "TaskState",
    "UnknownTaskError",
    "Wakeups",
    "Worker",
    "WorkerCounters",
    "WorkerSettings",
    "backend_from_url",
    "construct_handler",
]
