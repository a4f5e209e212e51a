"""The in-process fan-out: which subscriber buffers want which channel, and counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scaffold.pubsub._errors import GapReason

if TYPE_CHECKING:
    from collections.abc import KeysView

    from scaffold.pubsub._buffer import SubscriberBuffer


class Hub:
    """Routes each received message to every buffer subscribed to its channel key."""

    def __init__(self) -> None:
        self._routes: dict[str, set[SubscriberBuffer]] = {}
        self.delivered = 0
        self.dropped = 0
        self.connection_gaps = 0

    def attach(self, buffer: SubscriberBuffer) -> bool:
        """Add a buffer; return True when its channel had no subscriber before."""
        buffers = self._routes.get(buffer.key)
        if buffers is None:
            self._routes[buffer.key] = {buffer}
            return True
        buffers.add(buffer)
        return False

    def detach(self, buffer: SubscriberBuffer) -> bool:
        """Remove a buffer; return True when its channel has no subscriber left."""
        buffers = self._routes.get(buffer.key)
        if buffers is None or buffer not in buffers:
            return False
        buffers.discard(buffer)
        if buffers:
            return False
        del self._routes[buffer.key]
        return True

    def dispatch(self, key: str, message: str) -> None:
        buffers = self._routes.get(key)
        if not buffers:
            return
        for buffer in buffers:
            if buffer.put(message):
                self.delivered += 1
            else:
                self.dropped += 1

    def keys(self) -> KeysView[str]:
        return self._routes.keys()

    def subscribers(self) -> int:
        return sum(len(buffers) for buffers in self._routes.values())

    def interrupt(self, key: str | None = None) -> None:
        """Remember that every listening subscriber (of `key`) may now miss messages."""
        for buffers in self._select(key):
            for buffer in buffers:
                if buffer.active:
                    buffer.gap_pending = True

    def release_gaps(self) -> None:
        """Queue the remembered gaps: called once the backend listens again."""
        for buffers in self._routes.values():
            for buffer in buffers:
                if buffer.gap_pending:
                    buffer.gap_pending = False
                    buffer.put_gap(GapReason.CONNECTION_LOST)
                    self.connection_gaps += 1

    def close_all(self) -> None:
        for buffers in self._routes.values():
            for buffer in buffers:
                buffer.close()
        self._routes.clear()

    def _select(self, key: str | None) -> list[set[SubscriberBuffer]]:
        if key is None:
            return list(self._routes.values())
        buffers = self._routes.get(key)
        return [buffers] if buffers else []
