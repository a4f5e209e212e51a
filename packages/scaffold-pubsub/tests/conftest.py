"""Fixtures of scaffold-pubsub's tests: backends on the real servers, unique channels and
a TCP proxy that can silently stop forwarding (a half-open connection)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from scaffold.pubsub import Backoff, PubSubBackend, from_url

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
]

# Reconnect fast in tests; the defaults are tuned for production.
FAST = {"reconnect_backoff": Backoff(0.01, 0.2)}


async def eventually_holds(predicate: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """Poll until `predicate()` holds; fail naming `what` instead of hanging."""
    for _ in range(int(seconds / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    pytest.fail(f"still not true after {seconds} s: {what}")


@pytest.fixture
def eventually() -> Callable[[Callable[[], bool], str], Awaitable[None]]:
    """`await eventually(predicate, what)`: wait (boundedly) for a condition."""
    return eventually_holds


@pytest.fixture
def fast() -> dict[str, Any]:
    """Backend options for quick reconnection."""
    return dict(FAST)


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> str:
    """The URL of each backend in turn: memory, the session's PostgreSQL database, Redis."""
    kind: str = request.param
    if kind == "memory":
        return "memory://"
    if kind == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture
def channel(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Make channel names unique to this test (and to this session on a shared Redis)."""
    prefix = f"t{secrets.token_hex(4)}:"
    names = request.fixturenames
    on_redis = "redis_url" in names or (
        "backend_url" in names and str(request.getfixturevalue("backend_url")).startswith("redis")
    )
    if on_redis:
        prefix = f"{request.getfixturevalue('redis_prefix')}{prefix}"

    def make(name: str) -> str:
        return f"{prefix}{name}"

    return make


@pytest.fixture
async def make_pubsub(backend_url: str) -> AsyncIterator[Callable[..., PubSubBackend]]:
    """Create backends for `backend_url` (options as keywords); all closed after the test."""
    created: list[PubSubBackend] = []

    def make(**options: Any) -> PubSubBackend:
        if not backend_url.startswith("memory"):
            options = {**FAST, **options}
        pub_sub = from_url(backend_url, **options)
        created.append(pub_sub)
        return pub_sub

    yield make
    for pub_sub in created:
        await pub_sub.aclose()


@pytest.fixture
async def pub_sub(make_pubsub: Callable[..., PubSubBackend]) -> PubSubBackend:
    """One backend of the kind `backend_url` names."""
    return make_pubsub()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; `freeze()` stalls the open connections.

    A frozen connection stays open but nothing passes any more, as when a peer vanishes
    without closing: only a health check can tell. Setting `delay` holds back each chunk
    of data sent to the server for that many seconds (a slow network).
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._connections: list[asyncio.Event] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0
        self.delay = 0.0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    def freeze(self) -> int:
        """Stall every connection open now; return how many."""
        for frozen in self._connections:
            frozen.set()
        count = len(self._connections)
        self._connections = []
        return count

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._writers += [writer, upstream_writer]
        frozen = asyncio.Event()
        self._connections.append(frozen)
        for source, sink, delayed in (
            (reader, upstream_writer, True),
            (upstream_reader, writer, False),
        ):
            task = asyncio.create_task(self._pump(source, sink, frozen, delayed=delayed))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        frozen: asyncio.Event,
        *,
        delayed: bool,
    ) -> None:
        while data := await source.read(65536):
            if frozen.is_set():
                continue  # swallowed: the peer never hears of it
            if delayed and self.delay:
                await asyncio.sleep(self.delay)
            sink.write(data)
            await sink.drain()
        if not frozen.is_set():
            sink.close()


@pytest.fixture
async def tcp_proxy() -> AsyncIterator[Callable[[str], Awaitable[TcpProxy]]]:
    """Start a proxy to the server of a URL (`await tcp_proxy(url)`); stopped after the test."""
    proxies: list[TcpProxy] = []

    async def start(url: str) -> TcpProxy:
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        proxies.append(proxy)
        await proxy.start()
        return proxy

    yield start
    for proxy in proxies:
        await proxy.aclose()
