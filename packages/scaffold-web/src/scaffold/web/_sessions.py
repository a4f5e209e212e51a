"""The session cookie: signed, HttpOnly, SameSite=Lax, Secure over HTTPS, rotated at login."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from quart import has_request_context, request
from quart.sessions import SecureCookieSession, SecureCookieSessionInterface

from ._csrf import rotate_csrf_secret

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from itsdangerous import URLSafeTimedSerializer
    from quart import Quart
    from quart.sessions import SessionMixin
    from quart.wrappers import BaseRequestWebsocket, Response
    from werkzeug.wrappers import Response as WerkzeugResponse

SESSION_ID_KEY = "_id"


class ScaffoldSessionInterface(SecureCookieSessionInterface):
    """Quart's signed cookie session with a per-request Secure flag and a cached signer.

    Parameters:
        secure: ``None`` sets the Secure flag when the request came over HTTPS (behind a
            proxy, have the server trust its forwarded headers); a bool forces it.
    """

    def __init__(self, *, secure: bool | None) -> None:
        self._secure = secure
        self._signer: tuple[object, URLSafeTimedSerializer | None] | None = None

    def get_cookie_secure(self, app: Quart) -> bool:  # noqa: ARG002 - Quart's signature
        if self._secure is not None:
            return self._secure
        return has_request_context() and request.scheme == "https"

    # Most requests (a page without a session, an asset, a health check) neither bring a
    # session cookie nor store anything: both directions take the shortest way out then.

    async def open_session(
        self, app: Quart, request: BaseRequestWebsocket
    ) -> SecureCookieSession | None:
        # No Cookie header at all (a first visit, an API client): no cookies to parse.
        if app.secret_key and (
            "Cookie" not in request.headers or self.get_cookie_name(app) not in request.cookies
        ):
            return self.session_class()
        return await super().open_session(app, request)

    async def save_session(
        self,
        app: Quart,
        session: SessionMixin,
        response: Response | WerkzeugResponse | None,
    ) -> None:
        if not session and not session.modified:
            if session.accessed and response is not None:
                response.vary.add("Cookie")
            return
        await super().save_session(app, session, response)

    def get_signing_serializer(self, app: Quart) -> URLSafeTimedSerializer | None:
        # Building the serializer derives keys; doing it once per key, not per request,
        # is measurable on a small page.
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._signer
        if cached is None or cached[0] != key:
            cached = (key, super().get_signing_serializer(app))
            self._signer = cached
        return cached[1]


def rotate_session(session: MutableMapping[str, Any]) -> str:
    """Start a new session: forget every value, the CSRF secret too, and take a new id.

    Call it when the user's privileges change (login, logout), so that a session
    planted or observed before cannot ride along. Returns the new session id.
    """
    session.clear()
    rotate_csrf_secret(session)
    session_id = secrets.token_urlsafe(18)
    session[SESSION_ID_KEY] = session_id
    return session_id
