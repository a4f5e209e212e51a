"""CSRF tokens: bound to the session, checked on every unsafe request, with clear 400s."""

from __future__ import annotations

import pytest
from quart import ResponseReturnValue

from scaffold.web import (
    BaseController,
    CSRFError,
    controller,
    csrf_exempt,
    generate_csrf_token,
    route,
    validate_csrf_token,
)
from scaffold.web.testing import WebTestClient


@controller(name="notes", url_prefix="/notes")
class NotesController(BaseController):
    @route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def index(self) -> ResponseReturnValue:
        return f"{self.request.method} ok"

    @route("/hook", methods=["POST"])
    @csrf_exempt
    async def hook(self) -> ResponseReturnValue:
        return "hook ok"


@pytest.fixture
def app(make_app):
    return make_app(NotesController)


class TestTokens:
    def test_a_token_validates_against_its_session(self) -> None:
        """A generated token is accepted for the session it was made for."""
        session: dict[str, object] = {}
        validate_csrf_token(session, generate_csrf_token(session))

    def test_tokens_differ_each_time_but_all_validate(self) -> None:
        """Each rendering masks the secret anew, and every rendering stays valid."""
        session: dict[str, object] = {}
        first, second = generate_csrf_token(session), generate_csrf_token(session)
        assert first != second
        validate_csrf_token(session, first)
        validate_csrf_token(session, second)

    def test_a_token_of_another_session_is_refused(self) -> None:
        """A token made for one session does not pass for another."""
        token = generate_csrf_token({})
        other: dict[str, object] = {}
        generate_csrf_token(other)
        with pytest.raises(CSRFError, match="does not belong to this session"):
            validate_csrf_token(other, token)

    @pytest.mark.parametrize(
        ("token", "reason"),
        [(None, "missing"), ("", "missing"), ("not base64!", "malformed"), ("QUJD", "malformed")],
    )
    def test_bad_tokens_name_the_reason(self, token: str | None, reason: str) -> None:
        """Missing and malformed tokens are refused with a reason saying which."""
        session: dict[str, object] = {}
        generate_csrf_token(session)
        with pytest.raises(CSRFError, match=reason):
            validate_csrf_token(session, token)

    def test_a_session_without_secret_is_refused(self) -> None:
        """A token sent with no session secret (cookie lost) is refused, saying so."""
        token = generate_csrf_token({})
        with pytest.raises(CSRFError, match="no CSRF secret"):
            validate_csrf_token({}, token)

    def test_the_error_is_a_400(self) -> None:
        """CSRFError is a Bad Request whose description carries the reason."""
        error = CSRFError("the CSRF token is missing")
        assert error.code == 400
        assert "the CSRF token is missing" in error.description


class TestChecks:
    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    async def test_unsafe_methods_without_token_get_400(self, app, method: str) -> None:
        """Every unsafe method without a token is refused before the view runs."""
        async with WebTestClient(app) as client:
            response = await getattr(client, method)("/notes/", form={"a": "b"})
            body = await response.get_data(as_text=True)
        assert response.status_code == 400
        assert "CSRF check failed: the CSRF token is missing" in body

    async def test_form_field_token_passes(self, app) -> None:
        """A form post carrying csrf_token reaches the view."""
        async with WebTestClient(app) as client:
            token = await client.csrf_token()
            response = await client.post("/notes/", form={"csrf_token": token})
        assert response.status_code == 200
        assert await response.get_data(as_text=True) == "POST ok"

    async def test_header_token_passes_for_fetch_and_htmx(self, app) -> None:
        """A JSON request carrying X-CSRF-Token (fetch, HTMX) reaches the view."""
        async with WebTestClient(app) as client:
            token = await client.csrf_token()
            response = await client.put(
                "/notes/", json={"text": "hi"}, headers={"X-CSRF-Token": token}
            )
        assert response.status_code == 200

    async def test_json_body_token_is_not_looked_for(self, app) -> None:
        """A token inside a JSON body does not count; fetch requests use the header."""
        async with WebTestClient(app) as client:
            token = await client.csrf_token()
            response = await client.post("/notes/", json={"csrf_token": token})
        assert response.status_code == 400

    async def test_token_of_another_client_is_refused(self, app) -> None:
        """A token taken from one browser session does not work in another."""
        async with WebTestClient(app) as attacker, WebTestClient(app) as victim:
            token = await attacker.csrf_token()
            await victim.csrf_token()
            response = await victim.post("/notes/", form={"csrf_token": token})
        assert response.status_code == 400
        assert "does not belong to this session" in await response.get_data(as_text=True)

    async def test_exempt_route_is_not_checked(self, app) -> None:
        """@csrf_exempt lets a route take unsafe requests without a token."""
        async with WebTestClient(app) as client:
            response = await client.post("/notes/hook", form={})
        assert response.status_code == 200

    async def test_safe_methods_are_not_checked(self, app) -> None:
        """GET needs no token."""
        async with WebTestClient(app) as client:
            response = await client.get("/notes/")
        assert response.status_code == 200

    async def test_unknown_routes_stay_404(self, app) -> None:
        """A POST to a missing page is a 404, not a CSRF error."""
        async with WebTestClient(app) as client:
            response = await client.post("/nowhere", form={})
        assert response.status_code == 404

    async def test_checks_can_be_turned_off(self, make_app) -> None:
        """WebSettings(csrf=False) turns the app-wide check off."""
        app = make_app(NotesController, csrf=False)
        async with WebTestClient(app) as client:
            response = await client.post("/notes/", form={})
        assert response.status_code == 200
