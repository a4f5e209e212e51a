"""Security defaults: headers on every response, autoescaping, websocket origin checks."""

from __future__ import annotations

import pytest
from quart import ResponseReturnValue
from quart.testing import WebsocketResponseError

from scaffold.web import BaseController, SecurityHeaders, controller, route
from scaffold.web.testing import WebTestClient


@controller(name="pages")
class PagesController(BaseController):
    @route("/")
    async def index(self) -> ResponseReturnValue:
        return await self.render_template("page.html", text=self.request.args.get("q", ""))

    @route("/plain")
    async def plain(self) -> ResponseReturnValue:
        return await self.render_template("note.txt", text=self.request.args.get("q", ""))

    @route("/framable")
    async def framable(self) -> ResponseReturnValue:
        return "embed me", 200, {"X-Frame-Options": "SAMEORIGIN"}

    @route("/ws", websocket=True)
    async def socket(self) -> None:
        await self.websocket.send("hello")


TEMPLATES = {"page.html": "<p>{{ text }}</p>", "note.txt": "{{ text }}"}


@pytest.fixture
def app(make_app):
    return make_app(PagesController, templates=TEMPLATES)


class TestHeaders:
    @pytest.mark.parametrize("path", ["/", "/nowhere", "/health"])
    async def test_every_response_carries_the_headers(self, app, path: str) -> None:
        """Pages, 404s and the health check all carry the security headers."""
        async with WebTestClient(app) as client:
            response = await client.get(path)
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in headers

    async def test_hsts_only_over_https(self, app) -> None:
        """Strict-Transport-Security is sent on HTTPS responses only."""
        async with WebTestClient(app) as client:
            response = await client.get("/", scheme="https")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")

    async def test_a_view_can_set_its_own_value(self, app) -> None:
        """A header the view set is kept, not replaced by the default."""
        async with WebTestClient(app) as client:
            response = await client.get("/framable")
        assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]

    async def test_headers_are_configurable(self, make_app) -> None:
        """A custom policy replaces the default, None leaves a header out, extras are added."""
        headers = SecurityHeaders(
            content_security_policy="default-src 'self' https://cdn.example.com",
            frame_options=None,
            extra={"Permissions-Policy": "camera=()"},
        )
        app = make_app(PagesController, templates=TEMPLATES, security_headers=headers)
        async with WebTestClient(app) as client:
            response = await client.get("/")
        assert response.headers["Content-Security-Policy"].endswith("https://cdn.example.com")
        assert "X-Frame-Options" not in response.headers
        assert response.headers["Permissions-Policy"] == "camera=()"


class TestAutoescape:
    @pytest.mark.parametrize("path", ["/", "/plain"])
    async def test_user_input_comes_back_escaped(self, app, path: str) -> None:
        """A <script> in user input is escaped, in .html and in other templates alike."""
        async with WebTestClient(app) as client:
            response = await client.get(path, query_string={"q": "<script>alert(1)</script>"})
            body = await response.get_data(as_text=True)
        assert "<script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


class TestWebsocketOrigins:
    async def test_cross_origin_handshake_is_refused(self, app) -> None:
        """A handshake from another site's page gets 403 and never reaches the handler."""
        async with WebTestClient(app) as client:
            with pytest.raises(WebsocketResponseError) as refused:
                async with client.websocket(
                    "/ws", headers={"Origin": "https://evil.example"}
                ) as socket:
                    await socket.receive()
        assert refused.value.response.status_code == 403
        body = await refused.value.response.get_data(as_text=True)
        assert "origin https://evil.example is not allowed" in body

    async def test_same_origin_handshake_is_accepted(self, app) -> None:
        """The app's own pages (Origin matching Host) may connect."""
        async with (
            WebTestClient(app) as client,
            client.websocket("/ws", headers={"Origin": "http://localhost"}) as socket,
        ):
            assert await socket.receive() == "hello"

    async def test_allowed_origin_is_accepted(self, make_app) -> None:
        """An origin listed in allowed_origins may connect."""
        app = make_app(PagesController, allowed_origins=("https://app.example.com",))
        async with (
            WebTestClient(app) as client,
            client.websocket("/ws", headers={"Origin": "https://app.example.com"}) as socket,
        ):
            assert await socket.receive() == "hello"

    async def test_client_without_origin_is_accepted(self, app) -> None:
        """Non-browser clients send no Origin and carry no victim's cookies: accepted."""
        async with WebTestClient(app) as client, client.websocket("/ws") as socket:
            assert await socket.receive() == "hello"
