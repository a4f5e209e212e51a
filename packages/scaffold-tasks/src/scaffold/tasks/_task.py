"""What a task and a task handler are."""

from __future__ import annotations

import abc
import re
from typing import ClassVar, Protocol

from ._errors import TaskRegistrationError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")


def check_name(value: object, what: str) -> str:
    """Return `value` if it is a usable task or queue name, else raise naming the problem."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise TaskRegistrationError(
            f"{what} {value!r} is not valid: use 1 to 200 letters, digits and '_.:-', "
            "starting with a letter or digit"
        )
    return value


class Task:
    """Optional base class of task dataclasses; `name=` fixes the task's stable name.

    ```python
    @dataclasses.dataclass(frozen=True)
    class ReplyToConversationTask(Task, name="chat.reply"):
        user_id: uuid.UUID
    ```

    The stable name is what the database stores; it must not change while tasks of the
    type may still be queued. Without `name=` the registry uses the class's qualified name.
    """

    __task_name__: ClassVar[str | None] = None

    def __init_subclass__(cls, *, name: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if name is not None:
            cls.__task_name__ = check_name(name, "task name")


class TaskHandler[T](Protocol):
    """Anything with `async def handle(self, task)`; the worker calls it once per attempt."""

    async def handle(self, task: T, /) -> None: ...


class GenericBaseTaskHandler[T](abc.ABC):
    """Base class of task handlers, as in Scaffold 0.9.

    Subclasses take their dependencies in `__init__` (the container injects them) and
    implement `handle`. Raising makes the attempt fail: the task is retried with backoff,
    then dead-lettered with the traceback. Raise `TaskFailedPermanentlyError` to
    dead-letter at once.
    """

    @abc.abstractmethod
    async def handle(self, task: T, /) -> None:
        """Do the task's work."""
