"""The Redis backend: PUBLISH, and one SUBSCRIBE connection per process."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

try:
    from redis.asyncio.connection import AbstractConnection, ConnectionPool
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the Redis backend needs the redis extra: pip install 'scaffold-pubsub[redis]'"
    ) from error

from scaffold.pubsub._backend import DEFAULT_MAX_BUFFERED
from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._errors import PubSubConnectionError
from scaffold.pubsub._listener import ListenConnection
from scaffold.pubsub._publisher import Sender
from scaffold.pubsub._redis_wire import RedisListenConnection, RedisSendConnection
from scaffold.pubsub._server import ServerPubSub
from scaffold.pubsub._validation import (
    DEFAULT_MAX_MESSAGE_BYTES,
)


class RedisPubSub(ServerPubSub):
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
        self._url = url
        self._client_name = client_name
        # Fail on a malformed URL now rather than at first use.
        self._pool(f"{client_name}:check")
        super().__init__(
            what="Redis",
            max_buffered=max_buffered,
            max_message_bytes=max_message_bytes,
            health_check_interval=health_check_interval,
            health_check_timeout=health_check_timeout,
            publish_timeout=publish_timeout,
            reconnect_backoff=reconnect_backoff,
        )

    async def _connect_listener(self) -> ListenConnection:
        connection = await self._open(f"{self._client_name}:listen")
        return RedisListenConnection(connection, self._on_messages)

    async def _connect_publisher(self) -> Sender:
        return RedisSendConnection(await self._open(f"{self._client_name}:publish"))

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
