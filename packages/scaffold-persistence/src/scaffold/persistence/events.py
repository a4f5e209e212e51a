"""Domain events: how entities record them, and how they are encoded for the outbox.

An entity only needs a `pull_events()` method (the `RecordsEvents` protocol), so domain
code does not have to import this package; `EventRecorder` is a ready-made mixin for
those who do not mind.
"""

from __future__ import annotations

from ._codec import DataclassEventCodec
from .types import EventCodec, EventDispatcher, RecordsEvents

__all__ = ["DataclassEventCodec", "EventCodec", "EventDispatcher", "EventRecorder", "RecordsEvents"]


class EventRecorder:
    """Mixin for entities: `record_event()` in domain methods, pulled at commit."""

    def record_event(self, event: object) -> None:
        """Keep `event` until the unit of work commits and delivers it."""
        self.__dict__.setdefault("_recorded_events", []).append(event)

    def pull_events(self) -> list[object]:
        """Return the recorded events and forget them."""
        # Dropping the attribute returns the entity to the state it had before recording,
        # so pulling events never looks like a change of the entity.
        events: list[object] = self.__dict__.pop("_recorded_events", [])
        return events
