"""JSON encoding of dataclass domain events for the outbox, guided by their type hints."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import EventCodecError

_PLAIN = (str, int, float, bool, type(None))

# Types stored as text (or seconds) and parsed back with these functions.
_PARSERS: dict[type, Callable[[Any], object]] = {
    uuid.UUID: uuid.UUID,
    decimal.Decimal: decimal.Decimal,
    datetime.datetime: datetime.datetime.fromisoformat,
    datetime.date: datetime.date.fromisoformat,
    datetime.time: datetime.time.fromisoformat,
    datetime.timedelta: lambda seconds: datetime.timedelta(seconds=seconds),
}


class DataclassEventCodec:
    """Encodes dataclass events as JSON and decodes them back to the same classes.

    Fields may hold str, int, float, bool, None, UUID, datetime, date, time, timedelta,
    Decimal, Enum, nested dataclasses (such as id value objects), and lists, tuples,
    sets and dicts of those. The topic of an event is its class name, unless `topics`
    names it otherwise. An event class that was not registered is refused when it is
    encoded (inside the commit), not when a relay meets it after a crash.
    """

    def __init__(
        self, event_types: Iterable[type[Any]], *, topics: Mapping[type[Any], str] | None = None
    ) -> None:
        self._topic_of: dict[type[Any], str] = {}
        self._type_of: dict[str, type[Any]] = {}
        for event_type in event_types:
            if not dataclasses.is_dataclass(event_type):
                raise TypeError(f"{event_type!r} is not a dataclass; events must be dataclasses")
            topic = (topics or {}).get(event_type, event_type.__name__)
            if topic in self._type_of:
                raise ValueError(
                    f"topic {topic!r} is used by both {self._type_of[topic].__qualname__} "
                    f"and {event_type.__qualname__}; give one of them another topic"
                )
            self._topic_of[event_type] = topic
            self._type_of[topic] = event_type

    def encode(self, event: object) -> tuple[str, str]:
        topic = self._topic_of.get(type(event))
        if topic is None:
            raise EventCodecError(
                f"{type(event).__qualname__} is not one of the event types this codec was "
                "given, so it could not be decoded after a crash; register it"
            )
        try:
            return topic, json.dumps(_to_json(event), separators=(",", ":"))
        except (TypeError, ValueError) as error:
            raise EventCodecError(f"cannot encode {type(event).__qualname__}: {error}") from error

    def decode(self, topic: str, payload: str) -> object:
        event_type = self._type_of.get(topic)
        if event_type is None:
            raise EventCodecError(f"no event type is registered for topic {topic!r}")
        try:
            return _from_json(event_type, json.loads(payload))
        except (TypeError, ValueError, KeyError, decimal.InvalidOperation) as error:
            raise EventCodecError(
                f"cannot decode {event_type.__qualname__} from {payload!r}: {error}"
            ) from error


def _to_json(value: object) -> object:  # noqa: PLR0911 - one return per supported kind
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, enum.Enum):
        return _to_json(value.value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: _to_json(getattr(value, field.name)) for field in fields}
    if isinstance(value, Mapping):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_to_json(item) for item in value]
    raise TypeError(f"{type(value).__qualname__} values cannot be encoded: {value!r}")


def _from_json(hint: object, raw: object) -> object:  # noqa: PLR0911 - one return per kind
    origin = typing.get_origin(hint)
    if origin is None:
        return _from_json_plain(hint, raw)
    arguments = typing.get_args(hint)
    if origin in {typing.Union, types.UnionType}:
        return _from_json_union(arguments, raw)
    if origin in {list, set, frozenset}:
        return origin(_from_json(arguments[0], item) for item in _as_list(raw))
    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:  # noqa: PLR2004 - tuple[T, ...]
            return tuple(_from_json(arguments[0], item) for item in _as_list(raw))
        return tuple(_from_json(a, item) for a, item in zip(arguments, _as_list(raw), strict=True))
    if origin is dict and isinstance(raw, dict):
        key_type, value_type = arguments
        return {_from_json(key_type, k): _from_json(value_type, v) for k, v in raw.items()}
    return raw


def _from_json_union(options: tuple[object, ...], raw: object) -> object:
    if raw is None and type(None) in options:
        return None
    for option in options:
        if option is not type(None):
            try:
                return _from_json(option, raw)
            except (TypeError, ValueError, KeyError):
                continue
    raise ValueError(f"{raw!r} matches none of {options}")


def _from_json_plain(hint: object, raw: object) -> object:
    if not isinstance(hint, type) or hint is object:
        return raw
    if dataclasses.is_dataclass(hint):
        if not isinstance(raw, dict):
            raise TypeError(f"expected an object for {hint.__qualname__}, got {raw!r}")
        hints = typing.get_type_hints(hint)
        values = {
            field.name: _from_json(hints[field.name], raw[field.name])
            for field in dataclasses.fields(hint)
            if field.init and field.name in raw
        }
        return hint(**values)
    if issubclass(hint, enum.Enum):
        return hint(raw)
    parser = _PARSERS.get(hint)
    if parser is not None:
        return parser(raw)
    if hint is float and isinstance(raw, int):
        return float(raw)
    if hint in _PLAIN and not isinstance(raw, hint):
        raise TypeError(f"expected {hint.__name__}, got {raw!r}")
    return raw


def _as_list(raw: object) -> list[object]:
    if not isinstance(raw, list):
        raise TypeError(f"expected a list, got {raw!r}")
    return raw
