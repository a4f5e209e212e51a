"""Task ids: UUID version 7, made by the client so enqueueing never waits for the database.

Time-ordered ids keep the primary-key index append-mostly and make "created before" a
key range (pruning uses it); an id known before the INSERT makes a retried enqueue
idempotent and lets a batch use COPY, which returns nothing. The random bits come from
`random` (reseeded in forked children by CPython): ids must be unique, not unguessable.
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

# `uuid.UUID(int=...)` checks five mutually exclusive arguments on every call; for a
# value known to be a valid 128-bit UUIDv7 it is enough to set the two slots, which is
# what its __init__ ends with. Used only while the class has that layout.
_FAST = getattr(uuid.UUID, "__slots__", ()) == ("int", "is_safe", "__weakref__")
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def _make(value: int) -> uuid.UUID:
    if not _FAST:
        return uuid.UUID(int=value)
    made = _new(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _UNKNOWN)
    return made


def first_id_at(moment: float) -> uuid.UUID:
    """The smallest id made at or after `moment` (Unix seconds): ids below it are older.

    Pruning uses it to walk the primary key instead of scanning the table.
    """
    return uuid.UUID(int=(max(int(moment * 1000), 0) << 80))


def new_task_ids(count: int) -> list[uuid.UUID]:
    """`count` new UUIDv7s; the ids one process makes are strictly increasing."""
    global _last_ms, _sequence  # noqa: PLW0603 - the monotonic counter is process-wide on purpose
    now_ms = time.time_ns() // 1_000_000
    if now_ms > _last_ms:
        _last_ms = now_ms
        _sequence = random.getrandbits(10)
    else:
        # Same millisecond (or the clock stepped back): count on from the last id.
        _sequence += 1
    getrandbits = random.getrandbits
    ids: list[uuid.UUID] = []
    for _ in range(count):
        if _sequence > _SEQUENCE_MAX:
            _last_ms += 1
            _sequence = 0
        value = (
            (_last_ms << 80)
            | _VERSION_AND_VARIANT
            | (_sequence << 64)
            | getrandbits(_RANDOM_B_BITS)
        )
        ids.append(_make(value))
        _sequence += 1
    _sequence -= 1
    return ids


def new_task_id() -> uuid.UUID:
    """A new UUIDv7 (see `new_task_ids`)."""
    return new_task_ids(1)[0]
