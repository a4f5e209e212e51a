"""What the application needs from the outside world, implemented in the infrastructure layer."""

from .notification_service import NotificationService
from .pub_sub import GAP, Gap, PubSubService
from .task_queue import Task, TaskAttempt, TaskQueue
from .uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "GAP",
    "Gap",
    "NotificationService",
    "PubSubService",
    "Task",
    "TaskAttempt",
    "TaskQueue",
    "UnitOfWork",
    "UnitOfWorkFactory",
]
