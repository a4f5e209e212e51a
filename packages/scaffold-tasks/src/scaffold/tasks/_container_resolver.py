"""Handlers from a scaffold-di container, one scope per task execution."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from .types import TaskContext

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scaffold.di import Container


class ContainerResolver:
    """A `HandlerResolver` over a scaffold-di `Container`.

    Each execution opens `container.scope(context={TaskContext: ...})` and resolves the
    handler class in it, so scoped services (a unit of work, a session) are fresh per task
    and their clean-ups run when the task ends, also when it fails. `TaskContext` is
    declared as a context value of the container, so handlers and the services they use
    may ask for it.

    ```python
    worker = Worker(queue, resolver=ContainerResolver(container))
    ```
    """

    def __init__(self, container: Container) -> None:
        container.add_context(TaskContext)
        self._container = container

    def __repr__(self) -> str:
        return f"ContainerResolver({self._container!r})"

    @contextlib.asynccontextmanager
    async def __call__[H](self, handler_type: type[H], context: TaskContext) -> AsyncIterator[H]:
        async with self._container.scope({TaskContext: context}) as scope:
            yield await scope.aresolve(handler_type)
