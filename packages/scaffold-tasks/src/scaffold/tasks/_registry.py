"""The task types an application knows: stable names, handlers and per-type options."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, cast

import pydantic
import pydantic_core

from ._durations import Duration, seconds
from ._errors import TaskRegistrationError, UnknownTaskError
from ._retry import RetryPolicy
from ._task import TaskHandler, check_name

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

DEFAULT_QUEUE = "default"
_PRIORITY_RANGE = (-32768, 32767)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class TaskDefinition[T]:
    """A registered task type: its stable name, its handler and how it is run."""

    name: str
    task_type: type[T]
    handler_type: type[TaskHandler[T]] | None
    queue: str
    priority: int
    max_attempts: int
    retry: RetryPolicy
    timeout: float | None
    concurrency: int | None
    adapter: pydantic.TypeAdapter[T] = dataclasses.field(repr=False)
    list_adapter: pydantic.TypeAdapter[list[T]] = dataclasses.field(repr=False)

    # The adapter's serializer and validator are called directly: the TypeAdapter methods
    # add a Python layer that costs as much as the (Rust) work itself on small tasks.

    def encode(self, task: T) -> str:
        """The task as JSON, the form in which the database stores it.

        A field holding a value of another type than declared is an error here, at
        enqueue time, rather than a task that fails to validate in the worker later.
        """
        try:
            return self.adapter.serializer.to_json(task, warnings="error").decode()
        except pydantic_core.PydanticSerializationError as error:
            raise TypeError(f"cannot store task {self.name!r} as JSON: {error}") from None

    def encode_many(self, tasks: Sequence[T]) -> list[str]:
        """`encode` for a batch: the type check runs once over the whole list (the
        per-call cost of strict checking is most of the work on small tasks)."""
        try:
            self.list_adapter.serializer.to_json(tasks, warnings="error")
        except pydantic_core.PydanticSerializationError as error:
            raise TypeError(f"cannot store task {self.name!r} as JSON: {error}") from None
        to_json = self.adapter.serializer.to_json
        return [to_json(task).decode() for task in tasks]

    def decode(self, payload: str | bytes) -> T:
        """The task back from its JSON; raises `pydantic.ValidationError` if it does not fit."""
        return cast("T", self.adapter.validator.validate_json(payload))


def check_count(value: object, what: str, *, minimum: int = 1) -> int:
    """`value` if it is an int >= `minimum` (and not a bool), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TaskRegistrationError(f"{what} must be an int >= {minimum}, not {value!r}")
    return value


def check_priority(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"priority must be an int, not {value!r}")
    low, high = _PRIORITY_RANGE
    if not low <= value <= high:
        raise ValueError(f"priority must be between {low} and {high}, not {value}")
    return value


def _is_dataclass_type(value: object) -> bool:
    return isinstance(value, type) and dataclasses.is_dataclass(value)


class TaskRegistry:
    """Maps task types to stable names and handlers; the worker and the queue share one.

    ```python
    registry = TaskRegistry()
    registry.register(ReplyToConversationTask, ReplyToConversationTaskHandler, max_attempts=5)
    ```
    """

    def __init__(self) -> None:
        self._by_type: dict[type[Any], TaskDefinition[Any]] = {}
        self._by_name: dict[str, TaskDefinition[Any]] = {}

    def register[T](
        self,
        task_type: type[T],
        handler: type[TaskHandler[T]] | None = None,
        *,
        name: str | None = None,
        queue: str = DEFAULT_QUEUE,
        priority: int = 0,
        max_attempts: int = 5,
        retry: RetryPolicy | None = None,
        timeout: Duration | None = None,
        concurrency: int | None = None,
    ) -> TaskDefinition[T]:
        """Register `task_type` (a frozen dataclass) and the class that handles it.

        Parameters:
            task_type: the task's frozen dataclass.
            handler: the handler class (anything with `async def handle(self, task)`),
                resolved per execution by the worker's resolver. A process that only
                enqueues may leave it out.
            name: the stable name stored in the database (default: the `Task` subclass's
                `name=`, else the class's qualified name).
            queue, priority: defaults for tasks of this type; `enqueue` may override them.
            max_attempts: attempts before the task is dead-lettered (1 means no retry).
            retry: the backoff between attempts.
            timeout: seconds (or a timedelta) an attempt may take before it fails.
            concurrency: the most tasks of this type running at once across all workers,
                enforced in the database.
        """
        if not _is_dataclass_type(task_type):
            raise TaskRegistrationError(
                f"{task_type!r} cannot be registered: a task must be a frozen dataclass"
            )
        if not cast("Any", task_type).__dataclass_params__.frozen:
            raise TaskRegistrationError(
                f"{task_type.__qualname__} cannot be registered: tasks are values, declare it "
                "with @dataclasses.dataclass(frozen=True)"
            )
        if handler is not None and not callable(getattr(handler, "handle", None)):
            raise TaskRegistrationError(
                f"{handler!r} cannot handle {task_type.__qualname__}: a handler class needs an "
                "`async def handle(self, task)` method"
            )
        stable = name or getattr(task_type, "__task_name__", None) or task_type.__qualname__
        try:
            check_name(stable, f"the name of {task_type.__qualname__}")
        except TaskRegistrationError as error:
            raise TaskRegistrationError(
                f"{error}; give the task a stable name with register(..., name='...')"
            ) from None
        check_name(queue, f"the queue of {task_type.__qualname__}")
        check_count(max_attempts, "max_attempts")
        if concurrency is not None:
            check_count(concurrency, "concurrency (None for no limit)")
        if task_type in self._by_type:
            raise TaskRegistrationError(f"{task_type.__qualname__} is already registered")
        if stable in self._by_name:
            other = self._by_name[stable].task_type.__qualname__
            raise TaskRegistrationError(
                f"the name {stable!r} of {task_type.__qualname__} is already used by {other}: "
                "give one of them another name with register(..., name=...)"
            )
        try:
            adapter = pydantic.TypeAdapter(task_type)
            # Annotations pydantic could not resolve yet make a deferred adapter that
            # fails on first use; build it now so the error comes at registration.
            adapter.rebuild(raise_errors=True)
            list_adapter = pydantic.TypeAdapter(list[task_type])  # type: ignore[valid-type]
        except (pydantic.PydanticUserError, pydantic.PydanticUndefinedAnnotation) as error:
            raise TaskRegistrationError(
                f"{task_type.__qualname__} cannot be serialised with pydantic: {error}"
            ) from error
        definition = TaskDefinition(
            name=stable,
            task_type=task_type,
            handler_type=handler,
            queue=queue,
            priority=check_priority(priority),
            max_attempts=max_attempts,
            retry=retry or RetryPolicy(),
            timeout=None if timeout is None else seconds(timeout, "timeout", allow_zero=False),
            concurrency=concurrency,
            adapter=adapter,
            list_adapter=list_adapter,
        )
        self._by_type[task_type] = definition
        self._by_name[stable] = definition
        return definition

    def for_task[T](self, task: T) -> TaskDefinition[T]:
        """The definition of `task`'s type; a clear error if it was never registered."""
        definition = self._by_type.get(type(task))
        if definition is None:
            raise UnknownTaskError(
                f"{type(task).__qualname__} is not a registered task type: call "
                f"registry.register({type(task).__qualname__}, <handler class>) at start-up"
            )
        return cast("TaskDefinition[T]", definition)

    def by_name(self, name: str) -> TaskDefinition[Any] | None:
        """The definition registered under `name`, or None."""
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def concurrency_limits(self) -> Mapping[str, int]:
        """Task names with a global concurrency limit, and the limit."""
        return {d.name: d.concurrency for d in self._by_name.values() if d.concurrency}

    def __iter__(self) -> Iterator[TaskDefinition[Any]]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, task_type: object) -> bool:
        return task_type in self._by_type
