"""The exceptions of scaffold.pubsub, all under `PubSubError`."""

from __future__ import annotations

import enum


class PubSubError(Exception):
    """Base class of every error raised by scaffold.pubsub."""


class GapReason(enum.StrEnum):
    """Why a subscriber may have missed messages."""

    CONNECTION_LOST = "connection_lost"
    """The connection to the server dropped; messages sent meanwhile never reached us."""

    BUFFER_FULL = "buffer_full"
    """The subscriber fell behind and its bounded buffer refused new messages."""


class MessagesMissedError(PubSubError):
    """Raised by a subscription where messages may be missing (a gap).

    Everything received before it arrived in order; everything published after it was
    raised will be delivered again. The subscription stays open: catch it, re-read the
    state the messages were about, and keep iterating the same subscription.
    """

    def __init__(self, channel: str, reason: GapReason, dropped: int | None) -> None:
        self.channel = channel
        self.reason = reason
        self.dropped = dropped
        """How many messages this subscriber lost, or None when that cannot be known."""
        if reason is GapReason.BUFFER_FULL:
            detail = f"the subscriber's buffer was full and {dropped} message(s) were dropped"
        else:
            detail = "the connection to the server was lost and has been re-established"
        super().__init__(f"messages on channel {channel!r} may have been missed: {detail}")


class PayloadTooLargeError(PubSubError, ValueError):
    """Raised by `publish` for a message above the backend's size limit."""

    def __init__(self, channel: str, size: int, limit: int) -> None:
        self.channel = channel
        self.size = size
        self.limit = limit
        super().__init__(
            f"message for channel {channel!r} is {size} bytes in UTF-8, above the limit of "
            f"{limit} bytes; publish an id and keep the data in a table instead"
        )


class PubSubClosedError(PubSubError):
    """Raised when a closed pub/sub is used again."""


class PubSubConnectionError(PubSubError, ConnectionError):
    """The server could not be reached, or a publish could not be confirmed in time."""
