"""login_required, the current user and the user loader."""

from __future__ import annotations

import pytest
from quart import ResponseReturnValue
from quart.testing import WebsocketResponseError

from scaffold.web import BaseController, controller, current_user, login_required, route
from scaffold.web.testing import WebTestClient

USERS = {1: "ann", 2: "bob"}


@controller(name="secret", url_prefix="/secret")
class SecretController(BaseController):
    @route("/")
    @login_required
    async def index(self) -> ResponseReturnValue:
        return f"hello {await current_user()}"

    @login_required  # above @route works as well
    @route("/other")
    async def other(self) -> ResponseReturnValue:
        return "other"

    @route("/ws", websocket=True)
    @login_required
    async def socket(self) -> None:
        await self.websocket.send(f"hi {await self.current_user()}")


@pytest.fixture
def app(make_app):
    return make_app(SecretController)


async def test_anonymous_gets_401(app) -> None:
    """Without a signed-in user the route answers 401."""
    async with WebTestClient(app) as client:
        assert (await client.get("/secret/")).status_code == 401
        assert (await client.get("/secret/other")).status_code == 401


async def test_signed_in_user_passes(app) -> None:
    """With a user id in the session the route runs; without a loader the user is the id."""
    async with WebTestClient(app) as client:
        await client.login(1)
        response = await client.get("/secret/")
    assert await response.get_data(as_text=True) == "hello 1"


async def test_websocket_routes_are_protected(app) -> None:
    """An anonymous websocket is refused with 401; a signed-in one is served."""
    async with WebTestClient(app) as client:
        with pytest.raises(WebsocketResponseError) as refused:
            async with client.websocket("/secret/ws") as ws:
                await ws.receive()
        assert refused.value.response.status_code == 401
        await client.login(2)
        async with client.websocket("/secret/ws") as ws:
            assert await ws.receive() == "hi 2"


async def test_user_loader_gives_the_user(app) -> None:
    """A registered user loader turns the id into the user."""

    @app.user_loader
    async def load(user_id: object) -> str | None:
        return USERS.get(user_id)  # type: ignore[arg-type]

    async with WebTestClient(app) as client:
        await client.login(1)
        response = await client.get("/secret/")
    assert await response.get_data(as_text=True) == "hello ann"


async def test_vanished_user_counts_as_signed_out(app) -> None:
    """A session whose user the loader no longer finds is treated as anonymous."""

    @app.user_loader
    async def load(user_id: object) -> str | None:
        return USERS.get(user_id)  # type: ignore[arg-type]

    async with WebTestClient(app) as client:
        await client.login(99)
        assert (await client.get("/secret/")).status_code == 401


def test_sync_functions_are_refused() -> None:
    """login_required decorates async functions only, and says so."""
    with pytest.raises(TypeError, match="decorates async functions"):

        @login_required
        def sync_view() -> str:
            return ""
