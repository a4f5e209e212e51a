"""What the server backends share: one listening connection kept by a `Listener`, one
publishing connection kept by a `ReconnectingPublisher`, and the hub between them."""

from __future__ import annotations

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
        """Open a connection that delivers received messages to `_on_message`."""

    @abstractmethod
    async def _connect_publisher(self) -> Sender:
        """Open a connection to publish on."""

    def _on_message(self, channel: bytes, payload: bytes) -> None:
        self._hub.dispatch(channel.decode(errors="replace"), payload.decode(errors="replace"))

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
