"""The session cookie's flags, and rotation at login and logout."""

from __future__ import annotations

import pytest
from quart import ResponseReturnValue

from scaffold.web import BaseController, controller, route
from scaffold.web.testing import WebTestClient


@controller(name="account")
class AccountController(BaseController):
    @route("/visit")
    async def visit(self) -> ResponseReturnValue:
        self.session["visits"] = self.session.get("visits", 0) + 1
        return {"session_id": self.session.get("_id"), "visits": self.session["visits"]}

    @route("/login", methods=["POST"])
    async def login_route(self) -> ResponseReturnValue:
        self.login(42)
        return {"session_id": self.session["_id"]}

    @route("/logout", methods=["POST"])
    async def logout_route(self) -> ResponseReturnValue:
        self.logout()
        return "bye"

    @route("/who")
    async def who(self) -> ResponseReturnValue:
        return {"user": await self.current_user(), "visits": self.session.get("visits")}


@pytest.fixture
def app(make_app):
    return make_app(AccountController)


def cookie_of(response) -> str:
    [cookie] = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    return cookie


async def test_cookie_flags_over_http(app) -> None:
    """The session cookie is HttpOnly and SameSite=Lax, and not Secure over plain HTTP."""
    async with WebTestClient(app) as client:
        cookie = cookie_of(await client.get("/visit"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


async def test_cookie_is_secure_over_https(app) -> None:
    """Served over HTTPS, the session cookie is marked Secure."""
    async with WebTestClient(app) as client:
        cookie = cookie_of(await client.get("/visit", scheme="https"))
    assert "Secure" in cookie


async def test_secure_can_be_forced(make_app) -> None:
    """session_cookie_secure=True marks the cookie Secure even over HTTP (TLS at a proxy)."""
    app = make_app(AccountController, session_cookie_secure=True)
    async with WebTestClient(app) as client:
        cookie = cookie_of(await client.get("/visit"))
    assert "Secure" in cookie


async def test_pages_without_session_set_no_cookie(app) -> None:
    """A response that stored nothing sets no cookie."""
    async with WebTestClient(app) as client:
        response = await client.get("/health")
    assert "Set-Cookie" not in response.headers


async def test_login_rotates_session_and_csrf_secret(app) -> None:
    """Logging in empties the session, gives it a new id and invalidates earlier tokens."""
    async with WebTestClient(app) as client:
        await client.get("/visit")
        token_before = await client.csrf_token()
        login = await client.post("/login", form={"csrf_token": token_before})
        assert login.status_code == 200
        after = await (await client.get("/who")).get_json()
        assert after == {"user": 42, "visits": None}
        refused = await client.post("/logout", form={"csrf_token": token_before})
        assert refused.status_code == 400
        session_ids = {(await login.get_json())["session_id"]}
        await client.post("/logout", form={"csrf_token": await client.csrf_token()})
        again = await (await client.get("/visit")).get_json()
        session_ids.add(again["session_id"])
    assert len(session_ids) == 2
    assert None not in session_ids


async def test_logout_signs_out(app) -> None:
    """After logout there is no current user."""
    async with WebTestClient(app) as client:
        await client.login(7)
        assert (await (await client.get("/who")).get_json())["user"] == 7
        await client.post("/logout", form={"csrf_token": await client.csrf_token()})
        assert (await (await client.get("/who")).get_json())["user"] is None


async def test_trusted_proxy_makes_the_cookie_secure(make_app) -> None:
    """Behind a trusted TLS proxy (proxy_hops=1), X-Forwarded-Proto: https counts as HTTPS."""
    app = make_app(AccountController, proxy_hops=1)
    async with WebTestClient(app) as client:
        response = await client.get("/visit", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in cookie_of(response)
    assert "Strict-Transport-Security" in response.headers


async def test_forwarded_headers_are_ignored_without_proxy(app) -> None:
    """Without proxy_hops a client cannot claim HTTPS through X-Forwarded-Proto."""
    async with WebTestClient(app) as client:
        response = await client.get("/visit", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in cookie_of(response)


async def test_websocket_behind_a_trusted_tls_proxy(make_app) -> None:
    """X-Forwarded-Proto: https on a websocket upgrade still reaches the websocket route."""
    from scaffold.web import login_required  # noqa: PLC0415 - only this test needs it

    @controller(name="live")
    class LiveController(BaseController):
        @route("/live", websocket=True)
        @login_required
        async def live(self) -> None:
            await self.websocket.send(self.websocket.scheme)

    app = make_app(AccountController, LiveController, proxy_hops=1)
    async with WebTestClient(app) as client:
        await client.post("/login", headers={"X-CSRF-Token": await client.csrf_token()})
        async with client.websocket("/live", headers={"X-Forwarded-Proto": "https"}) as ws:
            assert await ws.receive() == "wss"
