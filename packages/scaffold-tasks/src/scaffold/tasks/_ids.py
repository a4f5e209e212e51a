"""Task ids: UUID version 7, made by the client so enqueueing never waits for the database.

Time-ordered ids keep the primary-key index append-mostly, and an id known before the
INSERT makes a retried enqueue idempotent and lets a batch use COPY, which returns nothing.
The random bits come from `random` (reseeded in forked children by CPython): ids must be
unique, not unguessable.
"""

from __future__ import annotations

import random
import time
import uuid

_VERSION_AND_VARIANT = (0x7 << 76) | (0x2 << 62)
_RANDOM_B_BITS = 62
_SEQUENCE_MAX = (1 << 12) - 1

_last_ms = 0
_sequence = 0


def first_id_at(moment: float) -> uuid.UUID:
    """The smallest id made at or after `moment` (Unix seconds): ids below it are older.

    Pruning uses it to walk the primary key instead of scanning the table.
    """
    return uuid.UUID(int=(max(int(moment * 1000), 0) << 80))


def new_task_id() -> uuid.UUID:
    """A new UUIDv7; ids made by one process are strictly increasing."""
    global _last_ms, _sequence  # noqa: PLW0603 - the monotonic counter is process-wide on purpose
    now_ms = time.time_ns() // 1_000_000
    if now_ms <= _last_ms:
        # Same millisecond (or the clock stepped back): count on from the last id.
        _sequence += 1
        if _sequence > _SEQUENCE_MAX:
            _last_ms += 1
            _sequence = 0
        now_ms = _last_ms
    else:
        _last_ms = now_ms
        _sequence = random.getrandbits(10)
    value = (
        (now_ms << 80)
        | _VERSION_AND_VARIANT
        | (_sequence << 64)
        | random.getrandbits(_RANDOM_B_BITS)
    )
    return uuid.UUID(int=value)
