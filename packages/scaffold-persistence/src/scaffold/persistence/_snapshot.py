"""Structural snapshots of plain Python objects, for change tracking in memory.

Entities usually compare equal by id alone, so `==` cannot tell whether one changed.
A snapshot turns an object graph into nested tuples of its state (attributes, items),
which compare by value; shared and cyclic references are recorded by position.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid

_ATOMS = (
    str,
    bytes,
    int,
    float,
    bool,
    type(None),
    decimal.Decimal,
    uuid.UUID,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    enum.Enum,
)
_SPECIAL_SLOTS = frozenset({"__dict__", "__weakref__"})


def snapshot(value: object) -> object:
    """A value that compares equal to another snapshot exactly when the states are equal."""
    return _snap(value, {})


def _snap(value: object, seen: dict[int, int]) -> object:
    if isinstance(value, _ATOMS):
        return (type(value), value)
    marker = id(value)
    if marker in seen:
        return ("ref", seen[marker])
    seen[marker] = len(seen)
    if isinstance(value, list | tuple):
        return (type(value), tuple(_snap(item, seen) for item in value))
    if isinstance(value, dict):
        return (type(value), tuple((_snap(k, seen), _snap(v, seen)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return (type(value), frozenset(_snap(item, seen) for item in value))
    state = _state(value)
    return (type(value), tuple((name, _snap(item, seen)) for name, item in state))


def _state(value: object) -> list[tuple[str, object]]:
    items: dict[str, object] = dict(getattr(value, "__dict__", {}))
    for cls in type(value).__mro__:
        slots = getattr(cls, "__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in items and name not in _SPECIAL_SLOTS and hasattr(value, name):
                items[name] = getattr(value, name)
    return sorted(items.items())
