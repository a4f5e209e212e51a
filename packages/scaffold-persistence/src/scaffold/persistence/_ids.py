"""Time-ordered UUIDs (version 7, RFC 9562) for the ids of new entities.

Ids made by `uuid7()` sort in creation order, so rows inserted one after another land
next to each other in a B-tree index, and ids from one process never go backwards even
when they are made within the same millisecond or the wall clock steps back.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

# Layout (most significant first): 48 bits Unix time in ms, 4 bits version (7), 12 bits
# of the counter, 2 bits variant (0b10), 30 more bits of the counter, 32 random bits.
# The 42-bit counter starts at a random value below 2**41 in each new millisecond, which
# leaves room for at least 2**41 further ids before that millisecond is exhausted.
_COUNTER_BITS = 42
_COUNTER_LOW_BITS = 30
_COUNTER_LIMIT = 1 << _COUNTER_BITS
_VERSION = 0x7
_VARIANT = 0b10

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def _next_state() -> tuple[int, int]:
    global _last_ms, _counter  # noqa: PLW0603 - the generator's state is process-wide by design
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms = now_ms
            _counter = secrets.randbits(_COUNTER_BITS - 1)
        else:
            # Same millisecond, or the clock went back: keep the last timestamp and count
            # on, so the order holds; on counter overflow borrow the next millisecond.
            _counter += 1
            if _counter >= _COUNTER_LIMIT:
                _last_ms += 1
                _counter = secrets.randbits(_COUNTER_BITS - 1)
        return _last_ms, _counter


def uuid7() -> uuid.UUID:
    """A new version 7 UUID: time-ordered, unique, 74 bits of it random or counter."""
    unix_ms, counter = _next_state()
    value = (
        (unix_ms & 0xFFFF_FFFF_FFFF) << 80
        | _VERSION << 76
        | (counter >> _COUNTER_LOW_BITS) << 64
        | _VARIANT << 62
        | (counter & ((1 << _COUNTER_LOW_BITS) - 1)) << 32
        | secrets.randbits(32)
    )
    return uuid.UUID(int=value)


def uuid7_time(value: uuid.UUID) -> float:
    """The Unix time (in seconds) at which a version 7 UUID was made."""
    if value.version != _VERSION:
        raise ValueError(f"{value} is a version {value.version} UUID, not version 7")
    return (value.int >> 80) / 1000
