"""One DI scope per request and websocket; its cleanups run however the connection ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from quart import ResponseReturnValue

from scaffold.di import Container, ValidationError
from scaffold.web import BaseController, before_request, controller, route
from scaffold.web.testing import WebTestClient


class Connection:
    """A per-request resource, like a database session."""

    count = 0

    def __init__(self) -> None:
        Connection.count += 1
        self.number = Connection.count


class Journal:
    """Records what the scoped resources went through (a singleton)."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.closed = asyncio.Event()


def provide_connection_factory(journal: Journal):
    async def provide_connection() -> AsyncGenerator[Connection]:
        connection = Connection()
        journal.events.append(f"open {connection.number}")
        try:
            yield connection
        except BaseException as error:
            journal.events.append(f"error {type(error).__name__}")
            raise
        finally:
            journal.events.append(f"close {connection.number}")
            journal.closed.set()

    return provide_connection


class Mailer:
    def send(self) -> str:
        return "real mail"


@controller(name="work", url_prefix="/work")
class WorkController(BaseController):
    def __init__(self, connection: Connection, mailer: Mailer) -> None:
        self.connection = connection
        self.mailer = mailer
        self.seen_in_hook: Connection | None = None

    @before_request
    async def hook(self) -> None:
        self.seen_in_hook = self.connection

    @route("/")
    async def index(self) -> ResponseReturnValue:
        return {
            "connection": self.connection.number,
            "same_in_hook": self.seen_in_hook is self.connection,
            "mail": self.mailer.send(),
        }

    @route("/fail")
    async def fail(self) -> ResponseReturnValue:
        raise RuntimeError("boom")

    @route("/slow")
    async def slow(self) -> ResponseReturnValue:
        await self.websocket_or_forever()
        return "never"

    @staticmethod
    async def websocket_or_forever() -> None:
        await asyncio.Event().wait()

    @route("/ws", websocket=True)
    async def socket(self) -> None:
        await self.websocket.send(f"ready {self.connection.number}")
        while True:
            await self.websocket.receive()


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def app(make_app, journal: Journal):
    container = Container()
    container.add_instance(Journal, journal)
    container.add_scoped(Connection, provide_connection_factory(journal))
    container.add_singleton(Mailer)
    return make_app(WorkController, container=container)


class TestScopePerConnection:
    async def test_each_request_gets_its_own_scope(self, app, journal: Journal) -> None:
        """Two requests get two connections, each closed after its response."""
        async with WebTestClient(app) as client:
            first = await (await client.get("/work/")).get_json()
            second = await (await client.get("/work/")).get_json()
        assert first["connection"] != second["connection"]
        assert first["same_in_hook"] is True
        n1, n2 = first["connection"], second["connection"]
        assert journal.events == [f"open {n1}", f"close {n1}", f"open {n2}", f"close {n2}"]

    async def test_cleanup_sees_the_error(self, app, journal: Journal) -> None:
        """When the view raises, the scope's generators see the error, then close."""
        async with WebTestClient(app) as client:
            response = await client.get("/work/fail")
        assert response.status_code == 500
        assert journal.events[1:] == ["error RuntimeError", journal.events[-1]]
        assert journal.events[-1].startswith("close")

    async def test_cleanup_on_client_disconnect(self, app, journal: Journal) -> None:
        """A client that goes away mid-request cancels the view; the scope still closes."""
        async with WebTestClient(app) as client:
            async with client.client.request("/work/slow") as connection:
                await connection.send_complete()
                await asyncio.sleep(0.05)
                assert journal.events[0].startswith("open")
                await connection.disconnect()
            await asyncio.wait_for(journal.closed.wait(), 5)
        assert journal.events[-2] == "error CancelledError"
        assert journal.events[-1].startswith("close")

    async def test_cleanup_when_websocket_disconnects(self, app, journal: Journal) -> None:
        """A websocket's scope lives as long as the socket and closes when it disconnects."""
        async with WebTestClient(app) as client:
            async with client.websocket("/work/ws") as ws:
                assert (await ws.receive()).startswith("ready")
                await ws.send("hi")
                assert journal.events == [journal.events[0]]  # still open
                await ws.disconnect()
            await asyncio.wait_for(journal.closed.wait(), 5)
        assert journal.events[-1].startswith("close")


class TestRealServer:
    async def test_abrupt_websocket_disconnect_closes_the_scope(
        self, app, journal: Journal, serve_app
    ) -> None:
        """A client whose TCP connection drops without a close frame still gets its cleanup."""
        async with serve_app(app) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"GET /work/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            handshake = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert handshake.startswith(b"HTTP/1.1 101")
            frame = await asyncio.wait_for(reader.read(64), 5)
            assert b"ready" in frame
            writer.transport.abort()  # RST, no close frame
            await asyncio.wait_for(journal.closed.wait(), 5)
        assert journal.events[-1].startswith("close")

    async def test_abrupt_http_disconnect_closes_the_scope(
        self, app, journal: Journal, serve_app
    ) -> None:
        """A browser that drops a slow request's connection still gets the scope closed."""
        async with serve_app(app) as port:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /work/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            for _ in range(100):
                if journal.events:
                    break
                await asyncio.sleep(0.02)
            assert journal.events[0].startswith("open")
            writer.transport.abort()
            await asyncio.wait_for(journal.closed.wait(), 5)
        assert journal.events[-1].startswith("close")


class TestStartupAndOverrides:
    async def test_unregistered_dependency_fails_at_startup(self, make_app) -> None:
        """A controller needing something unregistered stops the app before any request."""
        app = make_app(WorkController, services=[])
        with pytest.raises(Exception, match="Connection") as failure:
            async with WebTestClient(app):
                pass
        error = failure.value
        while not isinstance(error, ValidationError) and error.__cause__ is not None:
            error = error.__cause__
        assert "Connection" in str(error)

    async def test_overrides_replace_services_for_the_test(self, app) -> None:
        """The test client's overrides reach controllers; the container is back afterwards."""

        class FakeMailer(Mailer):
            def send(self) -> str:
                return "fake mail"

        async with WebTestClient(app, overrides={Mailer: FakeMailer()}) as client:
            overridden = await (await client.get("/work/")).get_json()
        async with WebTestClient(app) as client:
            normal = await (await client.get("/work/")).get_json()
        assert overridden["mail"] == "fake mail"
        assert normal["mail"] == "real mail"
