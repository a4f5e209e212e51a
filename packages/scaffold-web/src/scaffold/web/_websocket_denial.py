"""Refusing a websocket handshake on servers that send the denial response at its start."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypercorn.typing import ASGISendCallable, ASGISendEvent

logger = logging.getLogger("scaffold.web")


class DenialTolerantSend:
    """Wraps `send` of a websocket connection.

    Quart refuses a handshake with an HTTP response through the ASGI
    `websocket.http.response` extension: a start event, then body events. Granian sends the
    response (status and headers, no body) as soon as the start event arrives and rejects
    the body events with `RuntimeError`, which Quart would log as an application error for
    every refused handshake. The refusal has reached the client by then, so the rejected
    body of the error page is dropped (and logged at debug level) instead.
    """

    __slots__ = ("_send", "_started")

    def __init__(self, send: ASGISendCallable) -> None:
        self._send = send
        self._started = False

    async def __call__(self, message: ASGISendEvent) -> None:
        kind = message["type"]
        if kind == "websocket.http.response.start":
            self._started = True
        elif kind == "websocket.http.response.body" and self._started:
            try:
                await self._send(message)
            except RuntimeError as error:
                logger.debug("server sent the handshake refusal without its body: %s", error)
            return
        await self._send(message)
