"""The bounded buffer between the connection that receives messages and one subscriber.

Overflow policy: a full buffer keeps what it holds and refuses the newest message. The
refusal is counted and recorded as a gap marker after the buffered messages, so the
subscriber first receives everything it had, in order, then `MessagesMissedError`, then
what arrives once it has caught up. Consecutive refusals share one marker and markers
are tiny, so the buffer never holds more than `capacity` messages.
"""

from __future__ import annotations

import asyncio
from collections import deque

from scaffold.pubsub._errors import GapReason


class Gap:
    """A marker in a buffer: messages may be missing at this point."""

    __slots__ = ("dropped", "reason")

    def __init__(self, reason: GapReason, dropped: int | None) -> None:
        self.reason = reason
        self.dropped = dropped


class SubscriberBuffer:
    """Messages waiting for one subscriber; written by the backend, read by one task."""

    __slots__ = (
        "_closed",
        "_items",
        "_messages",
        "_waiter",
        "active",
        "capacity",
        "channel",
        "dropped",
        "gap_pending",
        "gaps",
        "key",
        "received",
    )

    def __init__(self, channel: str, key: str, capacity: int) -> None:
        self.channel = channel
        self.key = key
        """The backend's name for the channel (PostgreSQL shortens long names)."""
        self.capacity = capacity
        self._items: deque[str | Gap] = deque()
        self._messages = 0
        self._waiter: asyncio.Future[str | Gap | None] | None = None
        self._closed = False
        self.active = False
        """Set once the backend confirmed it listens for this subscriber."""
        self.gap_pending = False
        """Set when the connection dropped; the gap is queued once it listens again."""
        self.received = 0
        self.dropped = 0
        self.gaps = 0

    def __len__(self) -> int:
        """Messages and gap markers waiting."""
        return len(self._items)

    @property
    def messages(self) -> int:
        """Messages waiting (gap markers not counted)."""
        return self._messages

    def put(self, message: str) -> bool:
        """Queue a message; return False when the buffer was full and refused it."""
        items = self._items
        if self._messages >= self.capacity:
            self.dropped += 1
            last = items[-1]
            if type(last) is Gap:
                if last.dropped is not None:
                    last.dropped += 1
            else:
                items.append(Gap(GapReason.BUFFER_FULL, 1))
                self.gaps += 1
            return False
        self.received += 1
        waiter = self._waiter
        if waiter is not None:
            # `_hand_over`, inlined: this runs once per message and subscriber.
            self._waiter = None
            if not waiter.done():
                waiter.set_result(message)
                return True
        items.append(message)
        self._messages += 1
        return True

    def put_gap(self, reason: GapReason) -> None:
        """Queue a gap marker (merged into a marker that is already last)."""
        items = self._items
        if items and type(last := items[-1]) is Gap:
            if reason is GapReason.CONNECTION_LOST:
                # The count of lost messages is unknown once the connection dropped.
                last.reason = reason
                last.dropped = None
            return
        gap = Gap(reason, None if reason is GapReason.CONNECTION_LOST else 0)
        self.gaps += 1
        if not self._hand_over(gap):
            items.append(gap)

    def close(self, *, discard: bool = False) -> None:
        """End the buffer: the reader gets what is left (unless discarded), then the end."""
        self._closed = True
        if discard:
            self._items.clear()
            self._messages = 0
        self._hand_over(None)

    @property
    def closed(self) -> bool:
        return self._closed

    async def get(self) -> str | Gap:
        """Return the next item; raise StopAsyncIteration once closed and empty."""
        while True:
            item = self.take()
            if item is not None:
                return item
            if self._closed:
                raise StopAsyncIteration
            item = await self.wait()
            if item is not None:
                return item

    def take(self) -> str | Gap | None:
        """Return the next item, or None when none is waiting."""
        items = self._items
        if not items:
            return None
        item = items.popleft()
        if type(item) is str:
            self._messages -= 1
        return item

    def wait(self) -> asyncio.Future[str | Gap | None]:
        """A future for the reader of an empty buffer: the next item, or None once closed.

        The next message or gap is handed to it directly instead of being queued.
        """
        if self._waiter is not None and not self._waiter.done():
            raise RuntimeError(
                f"another task is already reading the subscription to {self.channel!r}; "
                "subscribe once per consumer"
            )
        waiter: asyncio.Future[str | Gap | None] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        return waiter

    def _hand_over(self, item: str | Gap | None) -> bool:
        """Give `item` (None: the end) to a reader waiting on the empty buffer, if any."""
        waiter = self._waiter
        if waiter is None:
            return False
        self._waiter = None
        if waiter.done():  # its reader was cancelled
            return False
        waiter.set_result(item)
        return True
