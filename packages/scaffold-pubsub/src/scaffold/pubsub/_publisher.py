"""Publishing over one pipelined connection that is re-established when it drops.

A message whose connection drops before the server confirmed it is sent again on a new
connection, until `timeout` seconds have passed; then `publish` raises. Delivery is
therefore at least once: a message the server had already accepted when the connection
dropped may arrive twice, but none is lost without the publisher being told.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._errors import PubSubClosedError, PubSubConnectionError


class Sender(Protocol):
    @property
    def lost(self) -> asyncio.Future[None]: ...

    def publish(self, key: str, payload: bytes) -> Awaitable[None]:
        """Send now; the awaitable is done once the server confirmed the message."""

    async def aclose(self) -> None: ...


class ReconnectingPublisher:
    """Sends messages through a `Sender`, replacing it when its connection is lost."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Sender]],
        *,
        what: str,
        timeout: float,
        backoff: Backoff,
    ) -> None:
        self._connect = connect
        self._what = what
        self._timeout = timeout
        self._backoff = backoff
        self._sender: Sender | None = None
        self._lock = asyncio.Lock()
        self._connected_once = False
        self._closed = False
        self.publishing = 0
        """Publishes in progress: sent or being sent, their callers not yet resumed."""

    async def publish(self, key: str, payload: bytes) -> None:
        self.publishing += 1
        try:
            sender = self._sender
            if sender is not None and not sender.lost.done():
                try:
                    await sender.publish(key, payload)
                except PubSubConnectionError:
                    pass  # retried below on a new connection
                else:
                    return
            await self._publish_retrying(key, payload)
        finally:
            self.publishing -= 1

    async def aclose(self) -> None:
        self._closed = True
        async with self._lock:
            if self._sender is not None:
                await self._sender.aclose()
                self._sender = None

    async def _publish_retrying(self, key: str, payload: bytes) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        attempt = 0
        while True:
            try:
                sender = await self._current()
                await sender.publish(key, payload)
            except PubSubConnectionError as error:
                if self._closed:
                    raise PubSubClosedError("the pub/sub was closed") from error
                if not self._connected_once:
                    raise  # never connected: a wrong URL or a server that is not there
                attempt += 1
                delay = self._backoff.delay(attempt)
                if loop.time() + delay >= deadline:
                    raise PubSubConnectionError(
                        f"{self._what} did not confirm a message on {key!r} within "
                        f"{self._timeout:g} s: {error}"
                    ) from error
                await asyncio.sleep(delay)
            else:
                return

    async def _current(self) -> Sender:
        async with self._lock:
            if self._closed:
                raise PubSubClosedError("the pub/sub was closed")
            sender = self._sender
            if sender is not None and not sender.lost.done():
                return sender
            if sender is not None:
                self._sender = None
                await sender.aclose()
            self._sender = sender = await self._connect()
            self._connected_once = True
            return sender
