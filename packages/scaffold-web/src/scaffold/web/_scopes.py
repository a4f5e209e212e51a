"""One DI scope per HTTP request and per websocket connection, closed when it ends.

The scope opens lazily, when the first controller of the connection is needed, and its
cleanups run at teardown: after the response, when the socket closes, and also when the
client goes away mid-request and the handler is cancelled.

The connection's scope lives in a context variable that `WebApp` resets around each
request and websocket: everything that runs for the connection (hooks, the view, error
handlers, teardown, tasks the view starts) runs in that context.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from scaffold.di import Container, Scope

_current: ContextVar[Scope | None] = ContextVar("scaffold.web.scope", default=None)


class ConnectionScopes:
    """Opens, serves from and closes the scope of the current connection."""

    def __init__(self, container: Container) -> None:
        self._container = container

    @staticmethod
    def start() -> Token[Scope | None]:
        """Begin a connection without a scope; returns the token `finish` needs."""
        return _current.set(None)

    @staticmethod
    def finish(token: Token[Scope | None]) -> None:
        _current.reset(token)

    async def resolve[T](self, cls: type[T]) -> T:
        """The connection's instance of `cls` (scoped: one per connection)."""
        scope = _current.get()
        if scope is None:
            scope = self._container.scope()
            _current.set(scope)
        return await scope.aresolve(cls)

    @staticmethod
    async def close(exc: BaseException | None) -> None:
        """Run the scope's cleanups (at teardown); `exc` is what ended the connection."""
        scope = _current.get()
        if scope is not None:
            _current.set(None)
            await scope.aclose(exc)
