"""The PostgreSQL backend: NOTIFY to publish, one LISTEN connection per process."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Collection

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from scaffold.pubsub._backend import DEFAULT_MAX_BUFFERED
from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._errors import PubSubConnectionError
from scaffold.pubsub._listener import ListenConnection
from scaffold.pubsub._pg_pipe import PgPipe
from scaffold.pubsub._publisher import Sender
from scaffold.pubsub._server import ServerPubSub
from scaffold.pubsub._validation import (
    POSTGRES_MAX_MESSAGE_BYTES,
    check_positive,
)

_STATEMENTS_KEPT = 1024
"""Channels whose quoted NOTIFY prefix a publishing connection keeps."""

MAX_IDENTIFIER_BYTES = 63
"""PostgreSQL truncates longer channel names (NAMEDATALEN - 1)."""

# Applied unless the URL says otherwise: find a dead peer without waiting for a write.
_CONNECTION_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "15",
    "keepalives_interval": "5",
    "keepalives_count": "3",
}


def channel_key(channel: str) -> str:
    """The PostgreSQL channel for a logical channel: itself when it fits, else a digest.

    Names starting with `~` are always digested, so a digest never equals a real name.
    """
    raw = channel.encode()
    if len(raw) <= MAX_IDENTIFIER_BYTES and not channel.startswith("~"):
        return channel
    return "~" + hashlib.sha256(raw).hexdigest()[: MAX_IDENTIFIER_BYTES - 1]


def conninfo(url: str, application_name: str) -> str:
    """libpq connection string for `url`; SQLAlchemy-style `postgresql+driver://` works too."""
    scheme, separator, rest = url.partition("://")
    if separator and "+" in scheme:
        url = f"{scheme.split('+', 1)[0]}://{rest}"
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise ValueError(f"not a valid PostgreSQL URL: {error}") from None
    for name, value in _CONNECTION_DEFAULTS.items():
        params.setdefault(name, value)
    params["application_name"] = application_name
    params["client_encoding"] = "UTF8"
    return make_conninfo("", **params)


class _ListenConnection:
    def __init__(self, pipe: PgPipe) -> None:
        self._pipe = pipe

    @property
    def lost(self) -> asyncio.Future[None]:
        return self._pipe.lost

    @property
    def backend_pid(self) -> int:
        return self._pipe.backend_pid

    async def listen(self, keys: Collection[str]) -> None:
        pipe = self._pipe
        await asyncio.gather(*(pipe.send(b"LISTEN " + pipe.identifier(key)) for key in keys))

    async def unlisten(self, keys: Collection[str]) -> None:
        pipe = self._pipe
        await asyncio.gather(*(pipe.send(b"UNLISTEN " + pipe.identifier(key)) for key in keys))

    async def ping(self) -> None:
        await self._pipe.execute(b"SELECT 1")

    async def aclose(self) -> None:
        await self._pipe.aclose()


class _Sender:
    def __init__(self, pipe: PgPipe) -> None:
        self._pipe = pipe
        self._statements: dict[str, bytes] = {}  # key -> b"NOTIFY <quoted key>, "

    @property
    def lost(self) -> asyncio.Future[None]:
        return self._pipe.lost

    def publish(self, key: str, payload: bytes) -> asyncio.Future[None]:
        # A NOTIFY statement with quoted values is parsed but never planned: about twice
        # the rate of `SELECT pg_notify($1, $2)` on the server, the same notification.
        pipe = self._pipe
        statements = self._statements
        start = statements.get(key)
        if start is None:
            if len(statements) >= _STATEMENTS_KEPT:
                statements.clear()
            start = statements[key] = b"NOTIFY " + pipe.identifier(key) + b", "
        return pipe.send(start + pipe.literal(payload))

    async def aclose(self) -> None:
        await self._pipe.aclose()


class PostgresPubSub(ServerPubSub):
    """Publish/subscribe across processes and machines through PostgreSQL.

    Each process holds at most two connections: one that only listens (every channel
    its subscribers want, fanned out in the process) and one that publishes, with
    concurrent publishes pipelined on it. Both are opened on first use.

    Parameters:
        url: a libpq URL or connection string (`postgresql://user@host/db`).
        application_name: shown in `pg_stat_activity`, with `:listen` / `:publish`.
        health_check_interval: seconds between checks of an idle listening connection.
        health_check_timeout: seconds a check or LISTEN may take before the connection
            is considered dead and replaced.
        publish_timeout: seconds `publish` keeps retrying over new connections after
            the connection dropped, before it raises `PubSubConnectionError`.
        reconnect_backoff: delays between reconnection attempts.
        max_buffered, max_message_bytes: see `PubSubBackend`; PostgreSQL accepts at
            most 7999 bytes.
    """

    def __init__(
        self,
        url: str,
        *,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        max_message_bytes: int = POSTGRES_MAX_MESSAGE_BYTES,
        application_name: str = "scaffold-pubsub",
        health_check_interval: float = 10.0,
        health_check_timeout: float = 5.0,
        publish_timeout: float = 10.0,
        reconnect_backoff: Backoff | None = None,
    ) -> None:
        check_positive("max_message_bytes", max_message_bytes)
        if max_message_bytes > POSTGRES_MAX_MESSAGE_BYTES:
            raise ValueError(
                f"max_message_bytes={max_message_bytes}: PostgreSQL NOTIFY accepts at most "
                f"{POSTGRES_MAX_MESSAGE_BYTES} bytes"
            )
        self._listen_conninfo = conninfo(url, f"{application_name}:listen")
        self._publish_conninfo = conninfo(url, f"{application_name}:publish")
        super().__init__(
            what="PostgreSQL",
            max_buffered=max_buffered,
            max_message_bytes=max_message_bytes,
            health_check_interval=health_check_interval,
            health_check_timeout=health_check_timeout,
            publish_timeout=publish_timeout,
            reconnect_backoff=reconnect_backoff,
        )

    def _key(self, channel: str) -> str:
        return channel_key(channel)

    async def _connect_listener(self) -> ListenConnection:
        return _ListenConnection(await self._open(self._listen_conninfo, listen=True))

    async def _connect_publisher(self) -> Sender:
        return _Sender(await self._open(self._publish_conninfo, listen=False))

    async def _open(self, conninfo: str, *, listen: bool) -> PgPipe:
        try:
            return await PgPipe.connect(conninfo, self._on_messages if listen else None)
        except psycopg.Error as error:
            raise PubSubConnectionError(f"could not connect to PostgreSQL: {error}") from error
