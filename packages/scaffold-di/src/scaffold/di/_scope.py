"""A scope: one web request, websocket connection, task run or CLI command."""

from __future__ import annotations

import asyncio
from collections import deque
from types import GeneratorType, MappingProxyType
from typing import TYPE_CHECKING, Any, Self, overload

from ._cleanup import DONE as _DONE
from ._cleanup import close_async, close_sync, yielded_twice
from ._errors import ResolutionError
from ._planset import SYNC_ONLY, Refusing, missing_plan
from ._registration import NO_INSTANCES

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from types import TracebackType

    from ._container import Container

_CLOSED = Refusing("this scope is closed; resolve inside the `with`/`async with` block")
NO_CONTEXT: Mapping[object, object] = MappingProxyType({})


class Scope:
    """Holds the scoped instances of one unit of work and closes them at its end.

    Get one from `container.scope()` (`async with`) or `container.sync_scope()` (`with`).
    Scoped services are created once per scope; nested scopes get their own, and see the
    context values of the scopes around them.
    """

    # Opening a scope is on every request's path: a few slots, no allocation.
    __slots__ = (
        "_async",
        "_busy",
        "_cache",
        "_container",
        "_context",
        "_exits",
        "_sync",
        "_waiters",
    )

    def __init__(
        self,
        container: Container,
        sync_plans: dict[object, Any],
        async_plans: dict[object, Any],
        context: Mapping[object, object],
    ) -> None:
        self._container = container
        self._sync = sync_plans
        self._async = async_plans  # a Refusing table for a sync_scope()
        self._context = context
        self._cache = NO_INSTANCES
        self._exits: list[Any] | Any = None  # None, one generator, or a list of them
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
        try:
            plan = self._sync[key]
        except KeyError:
            plan = missing_plan(self._sync, key)
        return plan(self)

    @overload
    def __getitem__[T](self, key: type[T] | Callable[..., T]) -> T: ...
    @overload
    def __getitem__(self, key: object) -> Any: ...  # noqa: ANN401 - as resolve()
    def __getitem__(self, key: object) -> object:
        return self.resolve(key)

    @overload
    def aresolve[T](self, key: type[T] | Callable[..., T]) -> Awaitable[T]: ...
    @overload
    def aresolve(self, key: object) -> Awaitable[Any]: ...
    def aresolve(self, key: object) -> Awaitable[Any]:
        """Resolve `key`, awaiting async providers; use as `await scope.aresolve(key)`."""
        try:
            plan = self._async[key]
        except KeyError:
            plan = missing_plan(self._async, key)
        return plan(self)  # type: ignore[no-any-return]

    def resolve_all[T](self, key: type[T] | Callable[..., T]) -> list[T]:
        """Every registration of `key`, in registration order (as `Sequence[key]` injects)."""
        return self.resolve(list[key])  # type: ignore[valid-type]

    def scope(self, context: Mapping[object, object] | None = None) -> Scope:
        """A nested scope for `async with`, with its own scoped instances."""
        if self._sync is _CLOSED:
            raise ResolutionError("cannot open a scope inside a closed scope")
        plans = self._async
        if isinstance(plans, Refusing):
            plans = plans.plans or plans
        return Scope(self._container, self._sync, plans, self._inherit(context))

    def sync_scope(self, context: Mapping[object, object] | None = None) -> Scope:
        """A nested scope for `with` in synchronous code."""
        if self._sync is _CLOSED:
            raise ResolutionError("cannot open a scope inside a closed scope")
        plans = self._async
        if type(plans) is not Refusing:
            plans = plans[SYNC_ONLY]
        return SyncScope(self._container, self._sync, plans, self._inherit(context))

    def _inherit(self, context: Mapping[object, object] | None) -> Mapping[object, object]:
        return {**self._context, **context} if context else self._context

    def __enter__(self) -> Self:
        raise ResolutionError(
            "container.scope() is an async scope: use `async with container.scope()`, "
            "or `with container.sync_scope()` in synchronous code"
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._sync = self._async = _CLOSED
        exits = self._exits
        if exits is None:
            return
        # The common case inline: one generator factory finishing cleanly. (Closing
        # twice is harmless: a finished generator just returns the default again.)
        if type(exits) is GeneratorType and exc is None:
            if next(exits, _DONE) is _DONE:
                return
            exits.close()
            raise yielded_twice(exits)
        self._exits = None
        close_sync(exits if type(exits) is list else [exits], exc)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._sync = self._async = _CLOSED
        exits = self._exits
        if exits is not None:
            self._exits = None
            await close_async(exits if type(exits) is list else [exits], exc)

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


class SyncScope(Scope):
    """The scope `sync_scope()` returns: entered with `with`, resolving sync providers only."""

    __slots__ = ()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Scope.__exit__ with one store less: the async table already refuses.
        self._sync = _CLOSED
        exits = self._exits
        if exits is None:
            return
        if type(exits) is GeneratorType and exc is None:
            if next(exits, _DONE) is _DONE:
                return
            exits.close()
            raise yielded_twice(exits)
        self._exits = None
        close_sync(exits if type(exits) is list else [exits], exc)
