"""Websockets: concurrent receive and send, clean disconnects, malformed input."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from scaffold.web import BaseController, MalformedMessageError, controller, route
from scaffold.web.testing import WebTestClient

FINISHED: list[str] = []


@controller(name="chat", url_prefix="/chat")
class ChatController(BaseController):
    @route("/echo", websocket=True)
    async def echo(self) -> None:
        """The tutorial's pattern: a receiving and a sending task in a TaskGroup."""
        outbox: asyncio.Queue[str] = asyncio.Queue()
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.receive(outbox))
                tg.create_task(self.send(outbox))
        except asyncio.CancelledError:
            FINISHED.append("cancelled")
            raise

    async def receive(self, outbox: asyncio.Queue[str]) -> None:
        while True:
            data = json.loads(await self.websocket.receive())
            await outbox.put(data["content"].upper())

    async def send(self, outbox: asyncio.Queue[str]) -> None:
        while True:
            await self.websocket.send(await outbox.get())

    @route("/strict", websocket=True)
    async def strict(self) -> None:
        message = await self.websocket.receive()
        if message != "hello":
            raise MalformedMessageError(f"expected 'hello', got {message!r}")
        await self.websocket.send("welcome")

    @route("/buggy", websocket=True)
    async def buggy(self) -> None:
        await self.websocket.receive()
        raise RuntimeError("a bug, not bad input")


@pytest.fixture
def app(make_app):
    return make_app(ChatController)


async def test_receive_and_send_concurrently(app) -> None:
    """Messages flow both ways through the TaskGroup pattern."""
    async with WebTestClient(app) as client, client.websocket("/chat/echo") as ws:
        await ws.send(json.dumps({"content": "one"}))
        await ws.send(json.dumps({"content": "two"}))
        assert await asyncio.wait_for(ws.receive(), 5) == "ONE"
        assert await asyncio.wait_for(ws.receive(), 5) == "TWO"


async def test_disconnect_ends_the_handler_cleanly(app, caplog) -> None:
    """A client leaving cancels the handler; nothing is logged as an error."""
    FINISHED.clear()
    async with WebTestClient(app) as client:
        async with client.websocket("/chat/echo") as ws:
            await ws.send(json.dumps({"content": "x"}))
            await asyncio.wait_for(ws.receive(), 5)
            await ws.disconnect()
        for _ in range(100):
            if FINISHED:
                break
            await asyncio.sleep(0.01)
    assert FINISHED == ["cancelled"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "JSONDecodeError"),
        (json.dumps({"text": "no content key"}), "KeyError: 'content'"),
    ],
)
async def test_malformed_input_closes_with_a_reason(app, caplog, message: str, reason: str) -> None:
    """Garbage from the client closes the socket with 1007 and the reason, without a traceback."""
    async with WebTestClient(app) as client, client.websocket("/chat/echo") as ws:
        await ws.send(message)
        with pytest.raises(Exception) as closed:  # noqa: PT011 - Quart's test socket raises its own close type
            await asyncio.wait_for(ws.receive(), 5)
    assert closed.value.args == (1007,)
    warnings = [r for r in caplog.records if r.name == "scaffold.web"]
    assert reason in warnings[0].getMessage()
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in warnings)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_handlers_can_refuse_input_explicitly(app) -> None:
    """MalformedMessageError closes with its message as the reason."""
    async with WebTestClient(app) as client:
        async with client.websocket("/chat/strict") as ws:
            await ws.send("hello")
            assert await ws.receive() == "welcome"
        async with client.websocket("/chat/strict") as ws:
            await ws.send("bye")
            with pytest.raises(Exception) as closed:  # noqa: PT011 - Quart's close type
                await asyncio.wait_for(ws.receive(), 5)
    assert closed.value.args == (1007,)


async def test_close_frame_carries_the_reason(app, serve_app) -> None:
    """Over a real server the close frame holds code 1007 and the reason text."""
    async with serve_app(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /chat/strict HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        payload = b"bye"
        mask = b"\x01\x02\x03\x04"
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        writer.write(bytes([0x81, 0x80 | len(payload)]) + mask + masked)  # text frame, masked
        header = await asyncio.wait_for(reader.readexactly(2), 5)
        body = await asyncio.wait_for(reader.readexactly(header[1] & 0x7F), 5)
        writer.close()
    assert header[0] & 0x0F == 0x8  # a close frame
    assert int.from_bytes(body[:2], "big") == 1007
    assert "expected 'hello', got 'bye'" in body[2:].decode()


async def test_bugs_are_still_logged_as_errors(app, caplog) -> None:
    """A programming error is not mistaken for bad input: it is logged with its traceback."""
    async with WebTestClient(app) as client, client.websocket("/chat/buggy") as ws:
        await ws.send("anything")
        with contextlib_suppress():
            await asyncio.wait_for(ws.receive(), 5)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors
    assert errors[0].exc_info is not None


class contextlib_suppress:  # noqa: N801 - reads like contextlib.suppress(Exception)
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True
