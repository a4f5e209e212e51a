"""Creating an async singleton exactly once, however many coroutines or threads ask at once."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import TYPE_CHECKING, Any

from ._registration import MISSING

if TYPE_CHECKING:
    import threading
    from collections.abc import Awaitable, Callable

# What a waiter receives when the coroutine creating the singleton was cancelled:
# it tries again (and may become the creator) instead of failing with a foreign cancel.
_RETRY = object()


async def create_async_singleton(  # noqa: PLR0917 - called only from generated plans
    container: object,
    cell: list[object],
    lock: threading.RLock,
    pending: dict[int, concurrent.futures.Future[Any]],
    registration_id: int,
    build: Callable[[object], Awaitable[object]],
) -> object:
    """Return the singleton in `cell`, building it with `build` if nobody has yet.

    The first caller builds; callers arriving while it builds wait for its result, in
    any thread and any event loop (a `concurrent.futures.Future` carries the result).
    """
    while True:
        with lock:
            value = cell[0]
            if value is not MISSING:
                return value
            future = pending.get(registration_id)
            owner = future is None
            if future is None:
                future = pending[registration_id] = concurrent.futures.Future()
        if not owner:
            value = await _wait_for(future)
            if value is _RETRY:
                continue
            return value
        try:
            value = await build(container)
        except BaseException as error:
            with lock:
                del pending[registration_id]
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
            raise
        with lock:
            cell[0] = value
            del pending[registration_id]
        future.set_result(value)
        return value


async def _wait_for(future: concurrent.futures.Future[Any]) -> object:
    # Not asyncio.wrap_future: cancelling one waiter would cancel the shared future.
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[object] = loop.create_future()

    def copy(done: concurrent.futures.Future[Any]) -> None:
        if waiter.done():
            return
        if done.cancelled():
            waiter.set_result(_RETRY)
        elif (error := done.exception()) is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())

    future.add_done_callback(lambda done: loop.call_soon_threadsafe(copy, done))
    return await waiter
