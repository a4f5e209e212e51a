"""What every backend shares: checks, subscriber buffers, fan-out and lifecycle."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from typing import Self

from scaffold.pubsub._buffer import SubscriberBuffer
from scaffold.pubsub._errors import PubSubClosedError, PubSubError
from scaffold.pubsub._hub import Hub
from scaffold.pubsub._stats import PubSubStats
from scaffold.pubsub._subscription import BufferedSubscription
from scaffold.pubsub._validation import (
    DEFAULT_MAX_MESSAGE_BYTES,
    check_channel,
    check_message,
    check_positive,
)

DEFAULT_MAX_BUFFERED = 1000


class PubSubBackend(ABC):
    """Base of the backends; implements the `PubSub` protocol and a lifecycle.

    Parameters:
        max_buffered: messages that may wait for one subscriber before newer ones are
            dropped and signalled as a gap (`MessagesMissedError`).
        max_message_bytes: the largest message accepted by `publish`, in UTF-8 bytes.
    """

    def __init__(
        self,
        *,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self._max_buffered = check_positive("max_buffered", max_buffered)
        self._max_message_bytes = check_positive("max_message_bytes", max_message_bytes)
        self._hub = Hub()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._published = 0

    @property
    def max_message_bytes(self) -> int:
        return self._max_message_bytes

    @property
    def closed(self) -> bool:
        return self._closed

    async def publish(self, channel: str, message: str) -> None:
        """Send `message` to every current subscriber of `channel`.

        Raises:
            PayloadTooLargeError: the message is above `max_message_bytes`.
            TypeError, ValueError: the channel or message is not text, or holds NUL.
            PubSubConnectionError: the server did not confirm the message in time.
            PubSubClosedError: the pub/sub was closed.
        """
        check_channel(channel)
        payload = check_message(channel, message, self._max_message_bytes)
        self._check_usable()
        await self._send(self._key(channel), payload, message)
        self._published += 1

    def subscribe(self, channel: str, *, max_buffered: int | None = None) -> BufferedSubscription:
        """Return a subscription to `channel`; it starts listening on first use.

        Use it as `async with pub_sub.subscribe(channel) as subscription:` to be sure it
        listens before you publish or read state, or iterate it directly.
        """
        check_channel(channel)
        if self._closed:
            raise PubSubClosedError(f"{type(self).__name__} is closed")
        capacity = (
            self._max_buffered
            if max_buffered is None
            else check_positive("max_buffered", max_buffered)
        )
        buffer = SubscriberBuffer(channel, self._key(channel), capacity)
        return BufferedSubscription(buffer, self._attach, self._detach)

    def stats(self) -> PubSubStats:
        hub = self._hub
        listening, connected, reconnects = self._connection_state()
        return PubSubStats(
            subscribers=hub.subscribers(),
            channels=len(hub.keys()),
            listening=listening,
            connected=connected,
            published=self._published,
            delivered=hub.delivered,
            dropped=hub.dropped,
            connection_gaps=hub.connection_gaps,
            reconnects=reconnects,
        )

    async def aclose(self) -> None:
        """Close connections and end every subscription (after its buffered messages)."""
        if self._closed:
            return
        self._closed = True
        self._hub.close_all()
        await self._shutdown()

    async def __aenter__(self) -> Self:
        self._check_usable()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _attach(self, buffer: SubscriberBuffer) -> None:
        self._check_usable()
        self._hub.attach(buffer)
        await self._listen(buffer.key)

    def _detach(self, buffer: SubscriberBuffer) -> None:
        if self._hub.detach(buffer) and not self._closed:
            self._release(buffer.key)

    def _check_usable(self) -> None:
        if self._closed:
            raise PubSubClosedError(f"{type(self).__name__} is closed")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise PubSubError(
                f"this {type(self).__name__} is in use by another event loop; "
                "create one per event loop"
            )

    def _key(self, channel: str) -> str:
        """The backend's name for a channel."""
        return channel

    @abstractmethod
    def _send(self, key: str, payload: bytes, message: str) -> Awaitable[None]:
        """Publish one checked message (`payload` is `message` in UTF-8); done once confirmed."""

    @abstractmethod
    async def _listen(self, key: str) -> None:
        """Return once the channel's messages reach the hub."""

    @abstractmethod
    def _release(self, key: str) -> None:
        """The channel has no subscriber left in this process."""

    @abstractmethod
    def _connection_state(self) -> tuple[int, bool, int]:
        """(channels listened to, connected, reconnects) for `stats()`."""

    @abstractmethod
    async def _shutdown(self) -> None:
        """Close connections and stop background tasks."""
