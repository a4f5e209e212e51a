"""Malformed websocket input closes the socket with a reason instead of a traceback.

A handler that parses what the client sent (``json.loads``, ``data["content"]``) raises
ValueError or KeyError on garbage, often from inside a TaskGroup. That is the client's
fault, not a server error: the socket is closed with 1007 (invalid payload) and the reason,
and one warning line is logged.
"""

from __future__ import annotations

import logging

from quart import websocket

logger = logging.getLogger("scaffold.web")

INVALID_PAYLOAD = 1007
_MAX_REASON_BYTES = 120  # a close frame's reason must fit in 123 bytes


class MalformedMessageError(ValueError):
    """Raise from a websocket handler when the client sent something unusable."""


MALFORMED = (ValueError, KeyError)


def malformed_input(error: BaseException) -> BaseException | None:
    """The input error behind `error`, if input errors are all that it is."""
    if isinstance(error, BaseExceptionGroup):
        matched, rest = error.split(MALFORMED)
        if rest is None and matched is not None:
            first = matched.exceptions[0]
            return malformed_input(first)
        return None
    if isinstance(error, MALFORMED):
        return error
    return None


async def close_for_malformed_input(error: BaseException) -> None:
    reason = f"malformed message: {type(error).__name__}: {error}"
    encoded = reason.encode()[:_MAX_REASON_BYTES]
    logger.warning("closing websocket %s: %s", websocket.path, reason)
    await websocket.close(INVALID_PAYLOAD, encoded.decode(errors="ignore"))
