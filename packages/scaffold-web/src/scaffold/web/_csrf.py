"""CSRF tokens bound to the session.

The session keeps one random secret. Every rendered token is that secret masked with a
fresh one-time pad, so a page never repeats a token (which defeats compression side
channels like BREACH) while any token rendered for the session stays valid until the
secret is rotated at login or logout.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable, MutableMapping
from typing import Any

from werkzeug.exceptions import BadRequest

SESSION_KEY = "_csrf"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SECRET_BYTES = 32
_EXEMPT_ATTRIBUTE = "__scaffold_csrf_exempt__"


class CSRFError(BadRequest):
    """A request with an unsafe method came without a valid CSRF token (400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(description=f"CSRF check failed: {reason}")
        self.reason = reason


def _existing_secret(session: MutableMapping[str, Any]) -> bytes | None:
    stored = session.get(SESSION_KEY)
    if not isinstance(stored, str):
        return None
    try:
        return bytes.fromhex(stored)
    except ValueError:
        return None


def _ensure_secret(session: MutableMapping[str, Any]) -> bytes:
    secret = _existing_secret(session)
    if secret is None or len(secret) != _SECRET_BYTES:
        secret = secrets.token_bytes(_SECRET_BYTES)
        session[SESSION_KEY] = secret.hex()
    return secret


def generate_csrf_token(session: MutableMapping[str, Any]) -> str:
    """A token for a form or header, valid for this session until the secret rotates."""
    secret = _ensure_secret(session)
    pad = secrets.token_bytes(_SECRET_BYTES)
    masked = bytes(a ^ b for a, b in zip(pad, secret, strict=True))
    return base64.urlsafe_b64encode(pad + masked).decode("ascii")


def rotate_csrf_secret(session: MutableMapping[str, Any]) -> None:
    """Forget the secret so that tokens rendered before (say, before login) stop working."""
    session.pop(SESSION_KEY, None)


def validate_csrf_token(session: MutableMapping[str, Any], token: str | None) -> None:
    """Raise `CSRFError`, naming the reason, unless `token` belongs to this session."""
    if not token:
        raise CSRFError(
            f"the CSRF token is missing; send it as the form field '{FORM_FIELD}' "
            f"or the header '{HEADER}'"
        )
    secret = _existing_secret(session)
    if secret is None or len(secret) != _SECRET_BYTES:
        raise CSRFError(
            "the session has no CSRF secret (the session cookie was not sent or has expired)"
        )
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CSRFError("the CSRF token is malformed") from None
    if len(raw) != 2 * _SECRET_BYTES:
        raise CSRFError("the CSRF token is malformed")
    pad, masked = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
    unmasked = bytes(a ^ b for a, b in zip(pad, masked, strict=True))
    if not hmac.compare_digest(unmasked, secret):
        raise CSRFError("the CSRF token does not belong to this session")


def csrf_exempt[F: Callable[..., Any]](function: F) -> F:
    """Skip the CSRF check for this route (a webhook signed by other means, say)."""
    setattr(function, _EXEMPT_ATTRIBUTE, True)
    return function


def is_csrf_exempt(function: object) -> bool:
    return bool(getattr(function, _EXEMPT_ATTRIBUTE, False))
