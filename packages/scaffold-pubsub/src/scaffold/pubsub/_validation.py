"""Checks on channel names and messages, the same for every backend.

Every backend refuses what PostgreSQL would refuse by default, so code tested against the
in-memory backend does not fail later in production on a bigger message.
"""

from __future__ import annotations

from scaffold.pubsub._errors import PayloadTooLargeError

POSTGRES_MAX_MESSAGE_BYTES = 7999
"""NOTIFY refuses payloads of 8000 bytes and more (PostgreSQL's default build)."""

DEFAULT_MAX_MESSAGE_BYTES = POSTGRES_MAX_MESSAGE_BYTES


def check_channel(channel: object) -> str:
    if not isinstance(channel, str):
        raise TypeError(f"channel must be a str, got {type(channel).__name__}")
    if not channel:
        raise ValueError("channel must not be empty")
    if "\x00" in channel:
        raise ValueError(f"channel {channel!r} contains a NUL character")
    return channel


def check_message(channel: str, message: object, limit: int) -> bytes:
    """Return the message as UTF-8, or raise a clear error naming what is wrong."""
    if not isinstance(message, str):
        raise TypeError(
            f"message for channel {channel!r} must be a str, got {type(message).__name__}; "
            "serialise it (for example json.dumps) first"
        )
    if "\x00" in message:
        raise ValueError(f"message for channel {channel!r} contains a NUL character")
    try:
        payload = message.encode()
    except UnicodeEncodeError as error:
        raise ValueError(f"message for channel {channel!r} is not valid text: {error}") from None
    if len(payload) > limit:
        raise PayloadTooLargeError(channel, len(payload), limit)
    return payload


def check_positive(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)
