"""The Redis backend: PUBLISH, and one SUBSCRIBE connection per process."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from typing import Any

try:
    from redis.asyncio.connection import AbstractConnection, ConnectionPool
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError, ResponseError
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the Redis backend needs the redis extra: pip install 'scaffold-pubsub[redis]'"
    ) from error

from scaffold.pubsub._backend import DEFAULT_MAX_BUFFERED, PubSubBackend
from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._errors import PubSubConnectionError, PubSubError
from scaffold.pubsub._listener import ListenConnection, Listener
from scaffold.pubsub._publisher import ReconnectingPublisher, Sender
from scaffold.pubsub._validation import (
    DEFAULT_MAX_MESSAGE_BYTES,
    check_seconds,
)

MessageCallback = Callable[[bytes, bytes], None]


class _Connection:
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


class _ListenConnection(_Connection):
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


class _SendConnection(_Connection):
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
    connection: _Connection, command: tuple[str | bytes, ...], replies: list[asyncio.Future[None]]
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


class RedisPubSub(PubSubBackend):
    """Publish/subscribe across processes through Redis pub/sub (`scaffold-pubsub[redis]`).

    Like the PostgreSQL backend: one connection per process subscribes to every channel
    its subscribers want, one publishes with concurrent publishes pipelined, both opened
    on first use. Redis has no payload limit of its own worth reaching; the default
    limit stays PostgreSQL's so that code can move between backends.

    Parameters:
        url: `redis://[:password@]host[:port][/db]`, `rediss://...` or `unix://path`.
        client_name: shown in `CLIENT LIST`, with `:listen` / `:publish`.
        other parameters: as for `PostgresPubSub`.
    """

    def __init__(
        self,
        url: str,
        *,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        client_name: str = "scaffold-pubsub",
        health_check_interval: float = 10.0,
        health_check_timeout: float = 5.0,
        publish_timeout: float = 10.0,
        reconnect_backoff: Backoff | None = None,
    ) -> None:
        super().__init__(max_buffered=max_buffered, max_message_bytes=max_message_bytes)
        self._url = url
        self._client_name = client_name
        # Fail on a malformed URL now rather than at first use.
        self._pool(f"{client_name}:check")
        backoff = reconnect_backoff or Backoff()
        self._listener = Listener(
            self._hub,
            self._connect_listener,
            what="Redis",
            backoff=backoff,
            health_check_interval=check_seconds("health_check_interval", health_check_interval),
            health_check_timeout=check_seconds("health_check_timeout", health_check_timeout),
        )
        self._publisher = ReconnectingPublisher(
            self._connect_publisher,
            what="Redis",
            timeout=check_seconds("publish_timeout", publish_timeout),
            backoff=backoff,
        )

    async def _send(self, key: str, payload: bytes, message: str) -> None:  # noqa: ARG002 - the payload is the message, encoded
        await self._publisher.publish(key, payload)

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

    def _on_message(self, channel: bytes, payload: bytes) -> None:
        self._hub.dispatch(channel.decode(errors="replace"), payload.decode(errors="replace"))

    async def _connect_listener(self) -> ListenConnection:
        connection = await self._open(f"{self._client_name}:listen")
        return _ListenConnection(connection, self._on_message)

    async def _connect_publisher(self) -> Sender:
        return _SendConnection(await self._open(f"{self._client_name}:publish"))

    def _pool(self, client_name: str) -> ConnectionPool:
        try:
            return ConnectionPool.from_url(
                self._url,
                client_name=client_name,
                # Reads wait for messages indefinitely; liveness is the health check's job.
                socket_timeout=None,
                socket_connect_timeout=10,
                socket_keepalive=True,
                health_check_interval=0,
                retry=Retry(NoBackoff(), 0),
                protocol=2,
                decode_responses=False,
            )
        except ValueError as error:
            raise ValueError(f"not a valid Redis URL: {error}") from None

    async def _open(self, client_name: str) -> AbstractConnection:
        pool = self._pool(client_name)
        connection = pool.connection_class(**pool.connection_kwargs)
        connect: Callable[[], Awaitable[None]] = (
            connection.connect
        )  # redis-py leaves it unannotated
        try:
            await connect()
        except (RedisError, OSError) as error:
            with contextlib.suppress(Exception):
                await connection.disconnect()
            raise PubSubConnectionError(f"could not connect to Redis: {error}") from error
        return connection
