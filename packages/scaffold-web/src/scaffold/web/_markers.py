"""Decorators that mark controller methods; the app reads the marks when it registers them.

Marks live in the function's ``__dict__``, which `functools.wraps` copies, so they survive
other decorators in either order (``@route`` above or below ``@login_required``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Literal

type Hook = Literal[
    "before_request",
    "after_request",
    "before_websocket",
    "after_websocket",
    "context_processor",
]

ROUTES_ATTRIBUTE = "__scaffold_routes__"
ERROR_HANDLERS_ATTRIBUTE = "__scaffold_error_handlers__"
HOOKS_ATTRIBUTE = "__scaffold_hooks__"


@dataclasses.dataclass(frozen=True)
class RouteMark:
    rule: str
    methods: tuple[str, ...] | None
    websocket: bool
    endpoint: str | None
    options: dict[str, Any]


def _append(function: Callable[..., Any], attribute: str, value: object) -> None:
    marks = list(getattr(function, attribute, ()))
    marks.append(value)
    setattr(function, attribute, tuple(marks))


def route[F: Callable[..., Any]](
    rule: str,
    *,
    methods: Sequence[str] | None = None,
    websocket: bool = False,
    endpoint: str | None = None,
    **options: Any,  # noqa: ANN401 - Werkzeug rule options (defaults, host, strict_slashes...)
) -> Callable[[F], F]:
    """Serve the decorated controller method at `rule` (below the controller's prefix).

    Parameters:
        rule: a Werkzeug rule such as ``"/"`` or ``"/<int:id>"``.
        methods: HTTP methods; GET (with HEAD and OPTIONS) when omitted.
        websocket: a websocket route instead of an HTTP one.
        endpoint: the endpoint name below the controller's; the method name by default.
    """
    if not rule.startswith("/"):
        raise ValueError(f"a route rule starts with '/', got {rule!r}")
    if websocket and methods is not None:
        raise ValueError("a websocket route takes no HTTP methods")
    mark = RouteMark(
        rule=rule,
        methods=tuple(method.upper() for method in methods) if methods is not None else None,
        websocket=websocket,
        endpoint=endpoint,
        options=dict(options),
    )

    def decorate(function: F) -> F:
        _append(function, ROUTES_ATTRIBUTE, mark)
        return function

    return decorate


def error_handler[F: Callable[..., Any]](
    *exceptions: type[BaseException] | int,
) -> Callable[[F], F]:
    """Handle these exception types (or HTTP status codes) raised in this controller."""
    if not exceptions:
        raise ValueError("error_handler needs at least one exception type or status code")

    def decorate(function: F) -> F:
        for exception in exceptions:
            _append(function, ERROR_HANDLERS_ATTRIBUTE, exception)
        return function

    return decorate


def _mark_hook[F: Callable[..., Any]](function: F, kind: Hook) -> F:
    _append(function, HOOKS_ATTRIBUTE, kind)
    return function


def before_request[F: Callable[..., Any]](function: F) -> F:
    """Run before each HTTP request of this controller; a return value ends the request."""
    return _mark_hook(function, "before_request")


def after_request[F: Callable[..., Any]](function: F) -> F:
    """Run after each HTTP request of this controller with the response; return it."""
    return _mark_hook(function, "after_request")


def before_websocket[F: Callable[..., Any]](function: F) -> F:
    """Run before each websocket connection of this controller is handled."""
    return _mark_hook(function, "before_websocket")


def after_websocket[F: Callable[..., Any]](function: F) -> F:
    """Run after each websocket connection of this controller; gets and returns the response."""
    return _mark_hook(function, "after_websocket")


def template_context_processor[F: Callable[..., Any]](function: F) -> F:
    """Return a dict of extra template variables for this controller's templates."""
    return _mark_hook(function, "context_processor")
