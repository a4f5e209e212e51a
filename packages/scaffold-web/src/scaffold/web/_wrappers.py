"""Quart's request, websocket and response classes, with two lookups made cheaper.

- Quart recomputes ``request.blueprints`` (splitting the endpoint name) each time a hook
  list, an error handler or a context processor is looked up: four times or more per
  request for a controller route. The endpoint is fixed once the URL is matched, so the
  answer is kept, keyed by the matched rule.
- Werkzeug's `Headers` answers ``headers.get(name)`` and ``name in headers`` for an absent
  header by raising and catching an HTTP 400 exception object. Every request asks for a
  few absent ones (Content-Length and Transfer-Encoding of a GET, Cookie of a first
  visit), and every new response whether it has a Content-Type yet, so requests and
  responses get a subclass that answers those by a plain scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from quart.wrappers import Request, Response, Websocket
from werkzeug.datastructures import Headers

if TYPE_CHECKING:
    from collections.abc import Callable


class ScaffoldHeaders(Headers):
    """`Headers` whose `get` and ``in`` find absent names without raising an exception."""

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    @overload
    def get[T](self, key: str, default: T) -> str | T: ...
    @overload
    def get[T](self, key: str, type: Callable[[str], T]) -> T | None: ...
    @overload
    def get[T](self, key: str, default: T, type: Callable[[str], T]) -> T: ...
    def get(  # type: ignore[misc]  # as Headers.get
        self,
        key: str,
        default: Any = None,
        type: Callable[[str], Any] | None = None,  # noqa: A002 - Headers.get's name
    ) -> Any:
        wanted = key.lower()
        for name, value in self._list:
            if name.lower() == wanted:
                if type is None:
                    return value
                try:
                    return type(value)
                except ValueError:
                    return default
        return default

    def __contains__(self, key: object) -> bool:
        wanted = key.lower()  # type: ignore[attr-defined]  # as Headers: names are str
        for name, _ in self._list:  # noqa: SIM110 - a loop is cheaper than any() here
            if name.lower() == wanted:
                return True
        return False

    def __eq__(self, other: object) -> bool:
        # Headers compares equal to its own class only; a plain Headers with the same
        # items still equals these.
        if not isinstance(other, Headers):
            return NotImplemented
        return _lowered(self) == _lowered(other)

    __hash__ = None  # mutable, like Headers


def _lowered(headers: Headers) -> set[tuple[str, str]]:
    return {(name.lower(), value) for name, value in headers.items()}


def _faster_headers(headers: Headers) -> Headers:
    # The server's headers are a plain Headers built for this request alone: retyping it
    # keeps its contents and identity and costs nothing.
    if type(headers) is Headers:
        headers.__class__ = ScaffoldHeaders
    return headers


class _BlueprintsCache:
    _scaffold_blueprints: tuple[Any, list[str]] | None = None

    @property
    def blueprints(self) -> list[str]:
        rule = self.url_rule  # type: ignore[attr-defined]
        cached = self._scaffold_blueprints
        if cached is None or cached[0] is not rule:
            cached = (rule, super().blueprints)  # type: ignore[misc]
            self._scaffold_blueprints = cached
        return cached[1]


class ScaffoldRequest(_BlueprintsCache, Request):
    def __init__(
        self,
        method: str,
        scheme: str,
        path: str,
        query_string: bytes,
        headers: Headers,
        *args: Any,  # noqa: ANN401 - passed on to Quart
        **kwargs: Any,  # noqa: ANN401 - passed on to Quart
    ) -> None:
        super().__init__(
            method, scheme, path, query_string, _faster_headers(headers), *args, **kwargs
        )


class ScaffoldWebsocket(_BlueprintsCache, Websocket):
    def __init__(
        self,
        path: str,
        query_string: bytes,
        scheme: str,
        headers: Headers,
        *args: Any,  # noqa: ANN401 - passed on to Quart
        **kwargs: Any,  # noqa: ANN401 - passed on to Quart
    ) -> None:
        super().__init__(path, query_string, scheme, _faster_headers(headers), *args, **kwargs)


class ScaffoldResponse(Response):
    def __init__(
        self,
        response: Any = None,  # noqa: ANN401 - any body Quart takes
        status: int | None = None,
        headers: Any = None,  # noqa: ANN401 - any headers Quart takes
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        # Werkzeug makes a plain Headers for a response given none.
        if headers is None or (not headers and not isinstance(headers, Headers)):
            headers = ScaffoldHeaders()
        super().__init__(response, status, headers, mimetype, content_type)
