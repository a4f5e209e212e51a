"""The default way a worker gets handlers: call the handler class without arguments."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ._errors import TaskQueueError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .types import TaskContext


@contextlib.asynccontextmanager
async def construct_handler[H](handler_type: type[H], context: TaskContext) -> AsyncIterator[H]:  # noqa: ARG001 - the HandlerResolver signature
    """Instantiate `handler_type()`; handlers with dependencies need a container resolver."""
    try:
        handler = handler_type()
    except TypeError as error:
        raise TaskQueueError(
            f"cannot create {handler_type.__qualname__}() without arguments ({error}); give "
            "the worker a resolver that injects its dependencies, e.g. "
            "Worker(queue, resolver=ContainerResolver(container))"
        ) from error
    yield handler
