"""Signing users in and out, the current user, and `login_required`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from quart import current_app, g, session
from werkzeug.exceptions import Unauthorized

from ._sessions import rotate_session

type UserLoader = Callable[[Any], Awaitable[object | None]]

_AUTH_EXTENSION = "scaffold.web.auth"
_NOT_LOADED = object()


class AuthSettings:
    """Where the user id lives in the session and how to load the user (per app)."""

    def __init__(self, session_user_key: str) -> None:
        self.session_user_key = session_user_key
        self.user_loader: UserLoader | None = None


def auth_settings() -> AuthSettings:
    settings = current_app.extensions.get(_AUTH_EXTENSION)
    if not isinstance(settings, AuthSettings):
        settings = AuthSettings("user_id")
        current_app.extensions[_AUTH_EXTENSION] = settings
    return settings


def install_auth(extensions: dict[str, Any], settings: AuthSettings) -> None:
    extensions[_AUTH_EXTENSION] = settings


def login_user(user_id: object) -> None:
    """Sign `user_id` in: a fresh session (new id, new CSRF secret) holding the id."""
    rotate_session(session)
    session[auth_settings().session_user_key] = user_id
    g.pop("scaffold_current_user", None)


def logout_user() -> None:
    """Sign out: the session is emptied and gets a new id."""
    rotate_session(session)
    g.pop("scaffold_current_user", None)


def current_user_id() -> object | None:
    """The signed-in user's id from the session, or ``None``."""
    return session.get(auth_settings().session_user_key)


async def current_user() -> object | None:
    """The signed-in user as the app's user loader returns it (once per request).

    Without a user loader this is the user id itself. A user id whose user the loader no
    longer finds (a deleted account) counts as signed out.
    """
    cached: object | None = g.get("scaffold_current_user", _NOT_LOADED)
    if cached is not _NOT_LOADED:
        return cached
    user_id = current_user_id()
    loader = auth_settings().user_loader
    user = user_id if user_id is None or loader is None else await loader(user_id)
    g.scaffold_current_user = user
    return user


async def is_authenticated() -> bool:
    return await current_user() is not None


def login_required[**P, R](
    function: Callable[P, Awaitable[R]],
) -> Callable[P, Awaitable[R]]:
    """Raise `Unauthorized` (401) unless a user is signed in; for HTTP and websocket routes.

    Handle `Unauthorized` with an error handler to redirect to a sign-in page instead.
    """
    if not inspect.iscoroutinefunction(function):
        raise TypeError(
            f"login_required decorates async functions; {function.__qualname__} is not one"
        )

    @functools.wraps(function)
    async def check_then_call(*args: P.args, **kwargs: P.kwargs) -> R:
        if not await is_authenticated():
            raise Unauthorized("Please sign in to continue.")
        return await function(*args, **kwargs)

    return check_then_call
