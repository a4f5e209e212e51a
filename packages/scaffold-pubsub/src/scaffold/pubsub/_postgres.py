"""The PostgreSQL backend: NOTIFY to publish, one LISTEN connection per process."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import math
from collections.abc import Callable, Collection

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from scaffold.pubsub._backend import DEFAULT_MAX_BUFFERED, PubSubBackend
from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._errors import PubSubConnectionError
from scaffold.pubsub._listener import ListenConnection, Listener
from scaffold.pubsub._pg_pipe import PgPipe
from scaffold.pubsub._publisher import ReconnectingPublisher, Sender
from scaffold.pubsub._validation import (
    POSTGRES_MAX_MESSAGE_BYTES,
    check_positive,
    check_seconds,
)

OWN_COPIES_GRACE = 5.0
"""Seconds after a publishing connection ended during which its messages are still
recognised as our own on the listening connection."""

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
    """The publishing connection; with `deliver`, it also hands confirmed messages to
    this process's own subscribers (see `PostgresPubSub`)."""

    def __init__(self, pipe: PgPipe, deliver: Callable[[str, bytes], None] | None) -> None:
        self._pipe = pipe
        self._deliver = deliver

    @property
    def lost(self) -> asyncio.Future[None]:
        return self._pipe.lost

    async def publish(self, key: str, payload: bytes) -> None:
        # A NOTIFY statement with quoted values is parsed but never planned: about twice
        # the rate of `SELECT pg_notify($1, $2)` on the server, the same notification.
        pipe = self._pipe
        deliver = self._deliver
        await pipe.send(
            b"NOTIFY " + pipe.identifier(key) + b", " + pipe.literal(payload),
            on_success=None if deliver is None else functools.partial(deliver, key, payload),
        )

    async def aclose(self) -> None:
        await self._pipe.aclose()


class PostgresPubSub(PubSubBackend):
    """Publish/subscribe across processes and machines through PostgreSQL.

    Each process holds at most two connections: one that only listens (every channel
    its subscribers want, fanned out in the process) and one that publishes, with
    concurrent publishes pipelined on it. Both are opened on first use.

    A message published here reaches this process's own subscribers as soon as the
    server confirms it, one round trip after `publish` started; its copy coming back on
    the listening connection (recognised by the publishing server process's id) is
    skipped. Other processes' messages arrive on the listening connection. Behind a
    connection pooler, where that id cannot be relied on, every message takes the
    listening connection.

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
        super().__init__(max_buffered=max_buffered, max_message_bytes=max_message_bytes)
        self._own_pids: dict[int, float] = {}
        """Server process ids of our publishing connections, until when to skip their
        messages on the listening connection."""
        self._listen_conninfo = conninfo(url, f"{application_name}:listen")
        self._publish_conninfo = conninfo(url, f"{application_name}:publish")
        backoff = reconnect_backoff or Backoff()
        self._listener = Listener(
            self._hub,
            self._connect_listener,
            what="PostgreSQL",
            backoff=backoff,
            health_check_interval=check_seconds("health_check_interval", health_check_interval),
            health_check_timeout=check_seconds("health_check_timeout", health_check_timeout),
        )
        self._publisher = ReconnectingPublisher(
            self._connect_publisher,
            what="PostgreSQL",
            timeout=check_seconds("publish_timeout", publish_timeout),
            backoff=backoff,
        )

    def _key(self, channel: str) -> str:
        return channel_key(channel)

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

    def _on_notify(self, channel: bytes, payload: bytes, pid: int) -> None:
        until = self._own_pids.get(pid)
        if until is not None:
            if until > asyncio.get_running_loop().time():
                return  # published here: delivered when the server confirmed it
            del self._own_pids[pid]
        self._hub.dispatch(channel.decode(errors="replace"), payload.decode(errors="replace"))

    def _deliver_local(self, key: str, payload: bytes) -> None:
        self._hub.dispatch(key, payload.decode(errors="replace"))

    async def _connect_listener(self) -> ListenConnection:
        return _ListenConnection(await self._open(self._listen_conninfo, listen=True))

    async def _connect_publisher(self) -> Sender:
        pipe = await self._open(self._publish_conninfo, listen=False)
        # Behind a connection pooler the statements of one connection may run in several
        # server processes, so notifications cannot be matched to it: no local delivery.
        if pipe.server_pid != pipe.backend_pid:
            return _Sender(pipe, None)
        pid = pipe.server_pid
        self._own_pids[pid] = math.inf
        pipe.lost.add_done_callback(lambda _: self._forget_pid(pid))
        return _Sender(pipe, self._deliver_local)

    def _forget_pid(self, pid: int) -> None:
        # Copies of this connection's last messages may still be on their way to the
        # listening connection; skip them for a while. Not forever: the server reuses
        # process ids, and another client's messages must never be skipped.
        if pid in self._own_pids:
            self._own_pids[pid] = asyncio.get_running_loop().time() + OWN_COPIES_GRACE

    async def _open(self, conninfo: str, *, listen: bool) -> PgPipe:
        try:
            return await PgPipe.connect(conninfo, self._on_notify if listen else None)
        except psycopg.Error as error:
            raise PubSubConnectionError(f"could not connect to PostgreSQL: {error}") from error
