"""A scope: one web request, websocket connection, task run or CLI command."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any, Self, overload

from ._cleanup import close_async, close_sync
from ._errors import ResolutionError
from ._planset import Refusing

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from types import TracebackType

    from ._compiler import Plan
    from ._container import Container

_CLOSED = Refusing("this scope is closed; resolve inside the `with`/`async with` block")
_SYNC_ONLY = Refusing(
    "this scope was opened with sync_scope(), which resolves sync providers only; "
    "open it with `async with container.scope()` to use aresolve()"
)


class Scope:
    """Holds the scoped instances of one unit of work and closes them at its end.

    Get one from `container.scope()` (`async with`) or `container.sync_scope()` (`with`).
    Scoped services are created once per scope; nested scopes get their own, and see the
    context values of the scopes around them.
    """

    __slots__ = (
        "_async",
        "_busy",
        "_cache",
        "_container",
        "_context",
        "_exits",
        "_is_sync",
        "_sync",
        "_waiters",
    )

    def __init__(
        self,
        container: Container,
        sync_plans: dict[object, Plan],
        async_plans: dict[object, Plan],
        context: Mapping[object, object],
        *,
        is_sync: bool,
    ) -> None:
        self._container = container
        self._sync = sync_plans
        self._async = _SYNC_ONLY if is_sync else async_plans
        self._context = context
        self._cache: dict[int, object] = {}
        self._exits: list[Any] = []
        self._is_sync = is_sync
        self._busy: object = None
        self._waiters: deque[asyncio.Future[None]] | None = None

    @property
    def container(self) -> Container:
        """The container this scope belongs to."""
        return self._container

    @overload
    def resolve[T](self, key: type[T] | Callable[..., T]) -> T: ...
    @overload
    def resolve(self, key: object) -> Any: ...  # noqa: ANN401 - e.g. Annotated[str, "dsn"]: no static type
    def resolve(self, key: object) -> object:
        """Resolve `key` synchronously (an async provider on the way is an error)."""
        return self._sync[key](self)

    @overload
    def __getitem__[T](self, key: type[T] | Callable[..., T]) -> T: ...
    @overload
    def __getitem__(self, key: object) -> Any: ...  # noqa: ANN401 - as resolve()
    def __getitem__(self, key: object) -> object:
        return self._sync[key](self)

    @overload
    def aresolve[T](self, key: type[T] | Callable[..., T]) -> Awaitable[T]: ...
    @overload
    def aresolve(self, key: object) -> Awaitable[Any]: ...
    def aresolve(self, key: object) -> Awaitable[Any]:
        """Resolve `key`, awaiting async providers; use as `await scope.aresolve(key)`."""
        return self._async[key](self)  # type: ignore[no-any-return]

    def resolve_all[T](self, key: type[T] | Callable[..., T]) -> list[T]:
        """Every registration of `key`, in registration order (as `Sequence[key]` injects)."""
        return self.resolve(list[key])  # type: ignore[valid-type]

    def scope(self, context: Mapping[object, object] | None = None) -> Scope:
        """A nested scope for `async with`, with its own scoped instances."""
        return self._child(context, is_sync=False)

    def sync_scope(self, context: Mapping[object, object] | None = None) -> Scope:
        """A nested scope for `with` in synchronous code."""
        return self._child(context, is_sync=True)

    def _child(self, context: Mapping[object, object] | None, *, is_sync: bool) -> Scope:
        if self._sync is _CLOSED:
            raise ResolutionError("cannot open a scope inside a closed scope")
        inherited = {**self._context, **context} if context else self._context
        return Scope(self._container, self._sync, self._async, inherited, is_sync=is_sync)

    def __enter__(self) -> Self:
        if not self._is_sync:
            raise ResolutionError(
                "container.scope() is an async scope: use `async with container.scope()`, "
                "or `with container.sync_scope()` in synchronous code"
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._sync = self._async = _CLOSED
        if self._exits:
            close_sync(self._exits, exc)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._sync = self._async = _CLOSED
        if self._exits:
            await close_async(self._exits, exc)

    def close(self, error: BaseException | None = None) -> None:
        """Close the scope from synchronous code (what leaving `with` does)."""
        self.__exit__(None if error is None else type(error), error, None)

    async def aclose(self, error: BaseException | None = None) -> None:
        """Close the scope: run generator cleanups newest first (what leaving `async with` does).

        Parameters:
            error: the exception that ended the unit of work, thrown into the generators.
        """
        await self.__aexit__(None if error is None else type(error), error, None)

    @property
    def closed(self) -> bool:
        return self._sync is _CLOSED

    async def _wait_turn(self) -> bool:
        """Wait until no other coroutine is resolving in this scope.

        Returns False (without waiting) when the caller is the coroutine that is already
        resolving, i.e. a provider re-entered the scope.
        """
        if self._busy is asyncio.current_task():
            return False
        if self._waiters is None:
            self._waiters = deque()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            # Handed the turn but cancelled before taking it: pass it on. (A waiter
            # cancelled earlier stays in the queue; _hand_over skips it.)
            if turn.done() and not turn.cancelled():
                self._hand_over()
            raise
        self._busy = asyncio.current_task()
        return True

    def _hand_over(self) -> None:
        waiters = self._waiters
        while waiters:
            turn = waiters.popleft()
            if not turn.done():
                self._busy = turn
                turn.set_result(None)
                return
        self._busy = None
