"""Redis connections driven by a reader task: one for SUBSCRIBE, one for pipelined PUBLISH.

redis-py opens them (URL, AUTH, TLS, database); replies are then read in order by one
task per connection and matched to the callers waiting for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError, ResponseError

from scaffold.pubsub._errors import PubSubConnectionError, PubSubError

MessageCallback = Callable[[bytes, bytes], None]


class RedisConnection:
    """A raw redis-py connection with a task reading its replies."""

    def __init__(self, connection: AbstractConnection, what: str) -> None:
        self._connection = connection
        self._what = what
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(), name=f"redis {what} reader")

    async def send(self, *args: str | bytes) -> None:
        if self.lost.done():
            raise PubSubConnectionError(f"the Redis {self._what} connection is closed")
        connection = self._connection
        try:
            # With no socket timeout, redis-py writes the whole command before its first
            # await, so concurrent senders' commands stay in the order of their replies.
            await connection.send_packed_command(connection.pack_command(*args), check_health=False)
        except (RedisError, OSError) as error:
            self._fail(error)
            raise PubSubConnectionError(f"Redis connection lost: {error}") from error

    async def aclose(self) -> None:
        self._fail(None)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        with contextlib.suppress(Exception):
            await self._connection.disconnect()

    def handle(self, reply: Any) -> None:  # noqa: ANN401 - redis-py replies are untyped
        raise NotImplementedError

    def refused(self, error: ResponseError) -> None:
        raise NotImplementedError

    def fail_pending(self, error: PubSubError) -> None:
        raise NotImplementedError

    async def _read(self) -> None:
        connection = self._connection
        while True:
            try:
                reply = await connection.read_response(disconnect_on_error=False)
            except ResponseError as error:
                self.refused(error)
            except (RedisError, OSError) as error:
                self._fail(error)
                return
            try:
                self.handle(reply)
            except Exception as error:  # noqa: BLE001 - a reply we cannot place ends the connection
                self._fail(error)
                return

    def _fail(self, cause: BaseException | None) -> None:
        if self.lost.done():
            return
        self.lost.set_result(None)
        if cause is None:
            error = PubSubConnectionError(f"the Redis {self._what} connection was closed")
        else:
            error = PubSubConnectionError(f"Redis connection lost: {cause}")
        # Nothing is sent on a lost connection (redis-py would silently reconnect it);
        # its owner replaces it and closes the socket with `aclose`.
        self.fail_pending(error)


class RedisListenConnection(RedisConnection):
    def __init__(self, connection: AbstractConnection, on_message: MessageCallback) -> None:
        self._on_message = on_message
        self._confirmations: dict[tuple[bytes, bytes], deque[asyncio.Future[None]]] = {}
        self._pings: deque[asyncio.Future[None]] = deque()
        super().__init__(connection, "listening")

    async def listen(self, keys: Collection[str]) -> None:
        await self._command(b"subscribe", "SUBSCRIBE", keys)

    async def unlisten(self, keys: Collection[str]) -> None:
        await self._command(b"unsubscribe", "UNSUBSCRIBE", keys)

    async def ping(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self._pings.append(future)
        await _send_then_wait(self, ("PING",), [future])

    async def _command(self, kind: bytes, command: str, keys: Collection[str]) -> None:
        if not keys:
            return
        loop = asyncio.get_running_loop()
        futures = []
        for key in keys:
            future: asyncio.Future[None] = loop.create_future()
            self._confirmations.setdefault((kind, key.encode()), deque()).append(future)
            futures.append(future)
        await _send_then_wait(self, (command, *keys), futures)

    def handle(self, reply: Any) -> None:  # noqa: ANN401 - redis-py replies are untyped
        if type(reply) is list and reply:
            kind = reply[0]
            if kind == b"message":
                self._on_message(reply[1], reply[2])
            elif kind in {b"subscribe", b"unsubscribe"}:
                futures = self._confirmations.get((kind, reply[1]))
                if futures:
                    _resolve(futures.popleft())
                    if not futures:
                        del self._confirmations[(kind, reply[1])]
            elif kind == b"pong" and self._pings:
                _resolve(self._pings.popleft())
        elif reply in {b"PONG", "PONG"} and self._pings:
            _resolve(self._pings.popleft())

    def refused(self, error: ResponseError) -> None:
        self.fail_pending(PubSubError(f"Redis refused a command: {error}"))

    def fail_pending(self, error: PubSubError) -> None:
        confirmations, self._confirmations = self._confirmations, {}
        pings, self._pings = self._pings, deque()
        for futures in [*confirmations.values(), pings]:
            for future in futures:
                if not future.done():
                    future.set_exception(error)


class RedisSendConnection(RedisConnection):
    def __init__(self, connection: AbstractConnection) -> None:
        self._inflight: deque[asyncio.Future[None]] = deque()
        super().__init__(connection, "publishing")

    async def publish(self, key: str, payload: bytes) -> None:
        future = asyncio.get_running_loop().create_future()
        self._inflight.append(future)
        await _send_then_wait(self, ("PUBLISH", key, payload), [future])

    def handle(self, reply: Any) -> None:  # noqa: ANN401, ARG002 - PUBLISH replies a receiver count
        if self._inflight:
            _resolve(self._inflight.popleft())

    def refused(self, error: ResponseError) -> None:
        if self._inflight:
            future = self._inflight.popleft()
            if not future.done():
                future.set_exception(PubSubError(f"Redis refused the message: {error}"))

    def fail_pending(self, error: PubSubError) -> None:
        while self._inflight:
            future = self._inflight.popleft()
            if not future.done():
                future.set_exception(error)


async def _send_then_wait(
    connection: RedisConnection,
    command: tuple[str | bytes, ...],
    replies: list[asyncio.Future[None]],
) -> None:
    """Send a command and wait for its replies; never leave a reply future unobserved."""
    try:
        await connection.send(*command)
        if len(replies) == 1:
            await replies[0]  # the common case (a publish) without gather's bookkeeping
        else:
            await asyncio.gather(*replies)
    except BaseException:
        for reply in replies:
            if not reply.done():
                reply.cancel()
            elif not reply.cancelled():
                reply.exception()  # already failed with the connection; mark it seen
        raise


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
