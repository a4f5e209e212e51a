"""A refused websocket handshake is not an application error on servers like Granian."""

from typing import Any

from scaffold.web._websocket_denial import DenialTolerantSend


class GranianLikeSend:
    """Sends the denial response at its start event and refuses body events."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, message: Any) -> None:
        if message["type"] == "websocket.http.response.body":
            raise RuntimeError("Unsupported ASGI message")
        self.sent.append(message)


class TestDenialTolerantSend:
    async def test_empty_body_events_after_the_start_are_dropped(self) -> None:
        """The 403 goes out with its start event; the empty body events raise nothing."""
        server = GranianLikeSend()
        send = DenialTolerantSend(server)
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"", "more_body": False})
        assert [m["type"] for m in server.sent] == ["websocket.http.response.start"]

    async def test_a_server_that_takes_body_events_gets_them(self) -> None:
        """On servers that support the body events (Hypercorn, Uvicorn) the page is sent."""
        sent: list[dict[str, Any]] = []

        async def full_server(message: Any) -> None:
            sent.append(message)

        send = DenialTolerantSend(full_server)
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"no", "more_body": False})
        assert [m.get("body") for m in sent] == [None, b"no"]

    async def test_other_events_pass_through(self) -> None:
        """Accept, send and close events reach the server unchanged."""
        server = GranianLikeSend()
        send = DenialTolerantSend(server)
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        assert server.sent == [
            {"type": "websocket.accept"},
            {"type": "websocket.close", "code": 1000},
        ]
