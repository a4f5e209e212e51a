"""Websocket handshakes from other sites are refused (cross-site websocket hijacking).

Browsers send cookies with a websocket handshake to any site, but always send its Origin
too; a handshake whose Origin is neither the app's own host nor an allowed origin is
refused with 403 before the socket is accepted. Clients that are not browsers send no
Origin and are let through: they cannot carry a victim's cookies.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from quart import websocket
from werkzeug.exceptions import Forbidden

logger = logging.getLogger("scaffold.web")


class OriginChecker:
    def __init__(self, allowed_origins: tuple[str, ...]) -> None:
        self._allowed = frozenset(origin.lower() for origin in allowed_origins)

    def is_allowed(self, origin: str, host: str | None) -> bool:
        origin = origin.lower()
        if origin in self._allowed:
            return True
        parts = urlsplit(origin)
        same_host = host is not None and parts.netloc == host.lower()
        return same_host and parts.scheme in {"http", "https"}

    def check(self) -> None:
        """before_websocket hook: raise 403 for a handshake from a foreign origin."""
        origin = websocket.headers.get("Origin")
        if origin is None:
            return
        if not self.is_allowed(origin, websocket.headers.get("Host")):
            logger.warning(
                "refused a websocket handshake to %s from origin %s", websocket.path, origin
            )
            raise Forbidden(
                f"Cross-origin websocket refused: the origin {origin} is not allowed "
                f"(add it to allowed_origins if it should be)."
            )
