"""The exceptions that scaffold-tasks raises."""

from __future__ import annotations


class TaskQueueError(Exception):
    """Base class of every error raised by scaffold-tasks."""


class TaskRegistrationError(TaskQueueError, ValueError):
    """A task type or handler cannot be registered as given."""


class UnknownTaskError(TaskQueueError, LookupError):
    """A task type or task name is not registered."""


class SchemaVersionError(TaskQueueError):
    """The database holds no task queue schema, or one this version does not understand."""


class QueueUnavailableError(TaskQueueError):
    """The database cannot be reached right now; the operation may succeed when retried."""


class TaskFailedPermanentlyError(Exception):
    """Raised by a handler for a failure that retrying cannot fix: the task is dead-lettered.

    Example: the task refers to a record that no longer exists.
    """
