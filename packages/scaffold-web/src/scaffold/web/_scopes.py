"""One DI scope per HTTP request and per websocket connection, closed when it ends.

The scope opens lazily, when the first controller of the connection is needed, and its
cleanups run at teardown: after the response, when the socket closes, and also when the
client goes away mid-request and the handler is cancelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quart import has_request_context, has_websocket_context, request, websocket

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from scaffold.di import Container, Scope

_STATE_ATTRIBUTE = "scaffold_scope_state"


class _ScopeState:
    __slots__ = ("context_manager", "instances", "scope")

    def __init__(self, context_manager: AbstractAsyncContextManager[Scope], scope: Scope) -> None:
        self.context_manager = context_manager
        self.scope = scope
        self.instances: dict[type[Any], Any] = {}


def _connection() -> object:
    if has_request_context():
        return request._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001 - LocalProxy's documented accessor
    if has_websocket_context():
        return websocket._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001 - LocalProxy's documented accessor
    raise RuntimeError("controllers are resolved inside an HTTP request or a websocket only")


class ConnectionScopes:
    """Opens, serves from and closes the scope of the current connection."""

    def __init__(self, container: Container) -> None:
        self._container = container

    async def resolve[T](self, cls: type[T]) -> T:
        """The connection's instance of `cls`, resolved from its scope on first use."""
        connection = _connection()
        state: _ScopeState | None = getattr(connection, _STATE_ATTRIBUTE, None)
        if state is None:
            context_manager = self._container.scope()
            scope = await context_manager.__aenter__()
            state = _ScopeState(context_manager, scope)
            setattr(connection, _STATE_ATTRIBUTE, state)
        instance = state.instances.get(cls)
        if instance is None:
            instance = await state.scope.aresolve(cls)
            state.instances[cls] = instance
        return instance  # type: ignore[no-any-return]

    async def close(self, exc: BaseException | None) -> None:
        """Run the scope's cleanups (teardown hook); `exc` is what ended the connection."""
        connection = _connection()
        state: _ScopeState | None = getattr(connection, _STATE_ATTRIBUTE, None)
        if state is None:
            return
        setattr(connection, _STATE_ATTRIBUTE, None)
        if exc is None:
            await state.context_manager.__aexit__(None, None, None)
        else:
            await state.context_manager.__aexit__(type(exc), exc, exc.__traceback__)
