"""`TaskManager`: background coroutines in the current process (0.9's `run_task`).

For work that may be lost when the process stops (a welcome e-mail on sign-up can be; a
payment cannot): it runs at once, without a database. Use the task queue for work that
must survive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from typing import TYPE_CHECKING, Any, Self, overload

from ._durations import Duration, seconds

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from types import TracebackType

logger = logging.getLogger("scaffold.tasks")


def _name_of(fn: Callable[..., object]) -> str:
    target = fn.func if isinstance(fn, functools.partial) else fn
    return getattr(target, "__qualname__", None) or repr(target)


class TaskManager:
    """Runs functions in the background, tracks them, and waits for them on shutdown.

    ```python
    manager = TaskManager()
    manager.run_task(notification_service.send_welcome_message, email)
    ...
    await manager.shutdown()   # e.g. in Quart's @app.after_serving
    ```

    A failing task does not disturb the caller: its exception is logged with the task's
    name. `shutdown` waits up to `shutdown_timeout` for the running tasks, then cancels
    the rest and logs which ones were cut short.
    """

    def __init__(self, *, shutdown_timeout: Duration = 10.0) -> None:
        self._shutdown_timeout = seconds(shutdown_timeout, "shutdown_timeout")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.failed = 0
        self.succeeded = 0

    def __repr__(self) -> str:
        return f"TaskManager({len(self._tasks)} running)"

    @property
    def running(self) -> int:
        """How many tasks are running now."""
        return len(self._tasks)

    @overload
    def run_task[**P, R](
        self,
        fn: Callable[P, Coroutine[Any, Any, R]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Task[R]: ...

    @overload
    def run_task[**P, R](
        self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
    ) -> asyncio.Task[R]: ...

    def run_task(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> asyncio.Task[Any]:
        """Start `fn(*args, **kwargs)` in the background and return its asyncio task.

        A coroutine function runs on the event loop; a plain function runs in a thread.
        Must be called while the event loop runs (from async code).
        """
        if self._closed:
            raise RuntimeError(f"the task manager is shut down; cannot run {_name_of(fn)}")
        if not callable(fn):
            raise TypeError(f"run_task() needs a callable, not {fn!r}")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"run_task({_name_of(fn)}) needs a running event loop: call it from async code"
            ) from None
        name = _name_of(fn)
        if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "func", None)
        ):
            coroutine: Awaitable[Any] = fn(*args, **kwargs)
        else:
            coroutine = asyncio.to_thread(fn, *args, **kwargs)
        task = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self.succeeded += 1
            return
        self.failed += 1
        logger.error(
            "background task %s failed: %s",
            task.get_name(),
            error,
            exc_info=(type(error), error, error.__traceback__),
        )

    async def join(self) -> None:
        """Wait until no task runs (including tasks started meanwhile by running ones)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def shutdown(self, grace: Duration | None = None) -> None:
        """Refuse new tasks, give the running ones `grace` seconds (default: the
        manager's `shutdown_timeout`) to finish, then cancel what is left."""
        self._closed = True
        limit = self._shutdown_timeout if grace is None else seconds(grace, "grace")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await self.join()
                return
        left = list(self._tasks)
        logger.warning(
            "task manager shutting down: cancelling %d task(s) still running after %.1fs: %s",
            len(left), limit, ", ".join(sorted(t.get_name() for t in left)),
        )  # fmt: skip
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()
