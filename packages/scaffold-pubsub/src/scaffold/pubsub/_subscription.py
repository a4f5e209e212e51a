"""The subscription that every backend hands out, reading from a bounded buffer."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from typing import Self

from scaffold.pubsub._buffer import Gap, SubscriberBuffer
from scaffold.pubsub._errors import MessagesMissedError, PubSubClosedError

Attach = Callable[[SubscriberBuffer], Awaitable[None]]
Detach = Callable[[SubscriberBuffer], None]


class _State(enum.Enum):
    NEW = enum.auto()
    STARTING = enum.auto()
    ACTIVE = enum.auto()
    CLOSED = enum.auto()


class BufferedSubscription:
    """One consumer's subscription to one channel (see `scaffold.pubsub.types.Subscription`).

    It registers on first use (`async with`, `start()` or the first `__anext__`) and
    unregisters when closed: by `aclose()`, by leaving `async with`, when the consumer's
    task is cancelled while waiting (as an async generator would end), or at the latest
    when it is garbage collected.
    """

    def __init__(self, buffer: SubscriberBuffer, attach: Attach, detach: Detach) -> None:
        self._attach = attach
        self._detach = detach
        self._buffer = buffer
        self._state = _State.NEW
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"<BufferedSubscription {self.channel!r} {self._state.name.lower()}>"

    @property
    def channel(self) -> str:
        return self._buffer.channel

    @property
    def capacity(self) -> int:
        """How many messages may wait for this subscriber before newer ones are dropped."""
        return self._buffer.capacity

    @property
    def pending(self) -> int:
        """Messages (and gap markers) waiting to be read."""
        return len(self._buffer)

    @property
    def received(self) -> int:
        return self._buffer.received

    @property
    def dropped(self) -> int:
        return self._buffer.dropped

    @property
    def gaps(self) -> int:
        """Gap markers queued for this subscriber so far."""
        return self._buffer.gaps

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED

    async def start(self) -> None:
        """Register and wait until the backend listens; idempotent."""
        if self._state is _State.ACTIVE:
            return
        if self._state is _State.CLOSED:
            raise PubSubClosedError(f"the subscription to {self.channel!r} is closed")
        if self._state is _State.STARTING:
            raise RuntimeError(f"the subscription to {self.channel!r} is already starting")
        self._state = _State.STARTING
        self._loop = asyncio.get_running_loop()
        try:
            await self._attach(self._buffer)
        except BaseException:
            self._close(discard=True)
            raise
        if self._state is _State.STARTING:
            self._state = _State.ACTIVE
            self._buffer.active = True

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        # The hot path of every delivery: kept to this one frame, the buffer's wait()
        # future receives the next item directly.
        if self._state is not _State.ACTIVE:
            if self._state is _State.CLOSED and self._buffer.closed:
                raise StopAsyncIteration
            await self.start()
        buffer = self._buffer
        while True:
            item = buffer.take()
            if item is not None:
                break
            if buffer.closed:
                self._close(discard=True)
                raise StopAsyncIteration
            try:
                received = await buffer.wait()
            except asyncio.CancelledError:
                self._close(discard=True)
                raise
            if received is not None:
                item = received
                break
        if type(item) is str:
            return item
        assert isinstance(item, Gap)  # noqa: S101 - the only other kind of item
        raise MessagesMissedError(self.channel, item.reason, item.dropped)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._close(discard=True)

    async def aclose(self) -> None:
        self._close(discard=True)

    def _close(self, *, discard: bool) -> None:
        if self._state is _State.CLOSED:
            return
        registered = self._state is not _State.NEW
        self._state = _State.CLOSED
        self._buffer.close(discard=discard)
        if registered:
            self._detach(self._buffer)

    def __del__(self) -> None:
        # The safety net for `break` out of a bare `async for`: unregister when the last
        # reference goes, which may happen outside the loop's thread, so hop onto it.
        if self._state in {_State.NEW, _State.CLOSED}:
            return
        self._state = _State.CLOSED
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._detach, self._buffer)
        except RuntimeError:  # the loop closed meanwhile: nothing is listening any more
            return
