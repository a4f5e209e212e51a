"""One DI scope per HTTP request and per websocket connection, closed when it ends.

The scope opens lazily, when the first controller of the connection is needed, and its
cleanups run at teardown: after the response, when the socket closes, and also when the
client goes away mid-request and the handler is cancelled.

The connection's state lives in a context variable. Quart handles each request and each
websocket in a task of its own, and everything that runs for the connection (hooks, the
view, error handlers, teardown, tasks the view starts) sees that task's context;
`start_connection` gives each connection a fresh state, so a request made from inside
another one (a test client call in a view) never shares its scope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from scaffold.di import Container, Scope


class _Connection:
    __slots__ = ("failure", "scope")

    def __init__(self) -> None:
        self.scope: Scope | None = None
        # The unhandled error of the connection: Quart turns it into a 500 before
        # teardown, but the scope's cleanups (a unit of work rolling back) must see it.
        self.failure: BaseException | None = None


_current: ContextVar[_Connection | None] = ContextVar("scaffold.web.connection", default=None)


def start_connection() -> None:
    _current.set(_Connection())


def _connection() -> _Connection:
    state = _current.get()
    if state is None:  # a hook ran before the request was preprocessed
        state = _Connection()
        _current.set(state)
    return state


def note_failure(error: BaseException) -> None:
    """Remember the error that failed the connection, for the scope's cleanups."""
    _connection().failure = error


class ConnectionScopes:
    """Opens, serves from and closes the scope of the current connection."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def resolver[T](self, cls: type[T]) -> Callable[[], Awaitable[T]]:
        """A function giving the connection's instance of `cls` (one per connection)."""
        open_scope = self._container.scope

        def resolve() -> Awaitable[T]:
            # A plain function returning the scope's awaitable: one coroutine less on
            # every request than an `async def` wrapper.
            state = _connection()
            scope = state.scope
            if scope is None:
                scope = state.scope = open_scope()
            return scope.aresolve(cls)

        return resolve

    @staticmethod
    async def close(exc: BaseException | None) -> None:
        """Run the scope's cleanups (at teardown); `exc` is what ended the connection."""
        state = _current.get()
        if state is not None and state.scope is not None:
            scope, state.scope = state.scope, None
            await scope.aclose(exc if exc is not None else state.failure)
