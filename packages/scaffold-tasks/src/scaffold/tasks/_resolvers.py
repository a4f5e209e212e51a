"""The default way a worker gets handlers: call the handler class without arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import TaskQueueError

if TYPE_CHECKING:
    from types import TracebackType

    from .types import TaskContext


class _Constructed[H]:
    """`async with` yielding the handler; a plain class, cheaper than a generator-based
    context manager on a path taken once per task."""

    __slots__ = ("_handler_type",)

    def __init__(self, handler_type: type[H]) -> None:
        self._handler_type = handler_type

    async def __aenter__(self) -> H:
        try:
            return self._handler_type()
        except TypeError as error:
            name = self._handler_type.__qualname__
            raise TaskQueueError(
                f"cannot create {name}() without arguments ({error}); give the worker a "
                "resolver that injects its dependencies, e.g. "
                "Worker(queue, resolver=ContainerResolver(container))"
            ) from error

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def construct_handler[H](handler_type: type[H], context: TaskContext) -> _Constructed[H]:  # noqa: ARG001 - the HandlerResolver signature
    """Instantiate `handler_type()`; handlers with dependencies need a container resolver."""
    return _Constructed(handler_type)
