"""`BaseController` and `@controller`: classes whose methods serve routes.

A controller's constructor declares the services it needs; the app resolves the controller
from a DI scope opened for each HTTP request and each websocket connection.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from quart import abort, flash, redirect, request, session, url_for, websocket

from ._auth import current_user, login_user, logout_user
from ._csrf import generate_csrf_token
from ._templating import render_template

if TYPE_CHECKING:
    from collections.abc import Callable

    from quart.sessions import SessionMixin
    from quart.wrappers import Request, Websocket
    from werkzeug.wrappers import Response as WerkzeugResponse

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONTROLLER_ATTRIBUTE = "__scaffold_controller__"


class BaseController:
    """The base of every controller: access to the request, session and helpers.

    Attributes set by `@controller`: ``name`` (the endpoint prefix, ``"home"`` in
    ``url_for("home.index")``), ``url_prefix`` and ``subdomain``.
    """

    name: ClassVar[str]
    url_prefix: ClassVar[str | None] = None
    subdomain: ClassVar[str | None] = None

    @property
    def request(self) -> Request:
        """The HTTP request being handled."""
        return request._get_current_object()  # type: ignore[attr-defined,no-any-return]  # noqa: SLF001 - LocalProxy's documented accessor

    @property
    def websocket(self) -> Websocket:
        """The websocket connection being handled."""
        return websocket._get_current_object()  # type: ignore[attr-defined,no-any-return]  # noqa: SLF001 - LocalProxy's documented accessor

    @property
    def session(self) -> SessionMixin:
        """The signed cookie session of this client."""
        return session._get_current_object()  # type: ignore[attr-defined,no-any-return]  # noqa: SLF001 - LocalProxy's documented accessor

    @staticmethod
    def redirect(location: str, code: int = 302) -> WerkzeugResponse:
        return redirect(location, code)

    @staticmethod
    def url_for(endpoint: str, **values: Any) -> str:  # noqa: ANN401 - URL values of any type
        """The URL of `endpoint`; ``".index"`` is relative to this controller."""
        return url_for(endpoint, **values)

    # The function itself, not a wrapper awaiting it: one coroutine less per page.
    render_template = staticmethod(render_template)

    @staticmethod
    async def flash(message: str, category: str = "message") -> None:
        await flash(message, category)

    @staticmethod
    def abort(code: int, description: str | None = None) -> None:
        abort(code, description)

    @staticmethod
    def csrf_token() -> str:
        """A CSRF token for this session, for a fetch/HTMX header or a hand-made form."""
        return generate_csrf_token(session)

    @staticmethod
    def login(user_id: object) -> None:
        """Sign the user in, rotating the session (see `login_user`)."""
        login_user(user_id)

    @staticmethod
    def logout() -> None:
        logout_user()

    @staticmethod
    async def current_user() -> object | None:
        return await current_user()


def controller[C: type[BaseController]](
    *, name: str, url_prefix: str | None = None, subdomain: str | None = None
) -> Callable[[C], C]:
    """Make a `BaseController` subclass a controller named `name`, served below `url_prefix`."""
    if not _NAME.match(name):
        raise ValueError(f"a controller name is a Python identifier, got {name!r}")
    if url_prefix is not None and (not url_prefix.startswith("/") or url_prefix.endswith("/")):
        raise ValueError(
            f"url_prefix starts with '/' and does not end with one, got {url_prefix!r}"
        )

    def decorate(cls: C) -> C:
        if not issubclass(cls, BaseController):
            raise TypeError(f"@controller decorates BaseController subclasses, not {cls!r}")
        cls.name = name
        cls.url_prefix = url_prefix
        cls.subdomain = subdomain
        setattr(cls, CONTROLLER_ATTRIBUTE, cls)
        return cls

    return decorate


def is_controller(cls: object) -> bool:
    """Whether `cls` itself (not just a base class) was decorated with `@controller`."""
    return isinstance(cls, type) and getattr(cls, CONTROLLER_ATTRIBUTE, None) is cls
