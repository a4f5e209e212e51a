"""What the server backends share: one listening connection kept by a `Listener`, one
publishing connection kept by a `ReconnectingPublisher`, and the hub between them."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Awaitable

from scaffold.pubsub._backend import PubSubBackend
from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._listener import ListenConnection, Listener
from scaffold.pubsub._publisher import ReconnectingPublisher, Sender
from scaffold.pubsub._validation import check_seconds


class ServerPubSub(PubSubBackend):
    """A backend on a server: subclasses open the two kinds of connection."""

    def __init__(
        self,
        *,
        what: str,
        max_buffered: int,
        max_message_bytes: int,
        health_check_interval: float,
        health_check_timeout: float,
        publish_timeout: float,
        reconnect_backoff: Backoff | None,
    ) -> None:
        super().__init__(max_buffered=max_buffered, max_message_bytes=max_message_bytes)
        self._deferred: list[tuple[bytes, bytes]] | None = None
        backoff = reconnect_backoff or Backoff()
        self._listener = Listener(
            self._hub,
            self._connect_listener,
            what=what,
            backoff=backoff,
            health_check_interval=check_seconds("health_check_interval", health_check_interval),
            health_check_timeout=check_seconds("health_check_timeout", health_check_timeout),
        )
        self._publisher = ReconnectingPublisher(
            self._connect_publisher,
            what=what,
            timeout=check_seconds("publish_timeout", publish_timeout),
            backoff=backoff,
        )

    @abstractmethod
    async def _connect_listener(self) -> ListenConnection:
        """Open a connection that hands what it receives to `_on_messages`."""

    @abstractmethod
    async def _connect_publisher(self) -> Sender:
        """Open a connection to publish on."""

    def _on_messages(self, batch: list[tuple[bytes, bytes]]) -> None:
        """What the listening connection read in one go, (channel, payload) in order."""
        deferred = self._deferred
        if deferred is not None:
            deferred.extend(batch)  # behind what already waits, to keep the order
        elif self._publisher.publishing:
            # A publish of this process waits for its confirmation, which may have been read
            # in this same step of the loop: let its task go on before the subscribers run.
            self._deferred = batch
            asyncio.get_running_loop().call_soon(self._dispatch_deferred)
        else:
            self._dispatch(batch)

    def _dispatch_deferred(self) -> None:
        batch, self._deferred = self._deferred, None
        if batch:
            self._dispatch(batch)

    def _dispatch(self, batch: list[tuple[bytes, bytes]]) -> None:
        dispatch = self._hub.dispatch
        for channel, payload in batch:
            dispatch(channel.decode(errors="replace"), payload.decode(errors="replace"))

    def _send(self, key: str, payload: bytes, message: str) -> Awaitable[None]:  # noqa: ARG002 - the payload is the message, encoded
        return self._publisher.publish(key, payload)

    async def _listen(self, key: str) -> None:
        await self._listener.ensure(key)

    def _release(self, key: str) -> None:  # noqa: ARG002 - the listener compares all channels
        self._listener.wake()

    def _connection_state(self) -> tuple[int, bool, int]:
        listener = self._listener
        return listener.listening, listener.connected, listener.reconnects

    async def _shutdown(self) -> None:
        await self._listener.aclose()
        await self._publisher.aclose()
