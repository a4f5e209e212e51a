"""BaseForm: WTForms with the session's CSRF token and async validation."""

from __future__ import annotations

import pytest
from quart import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from wtforms import StringField, ValidationError, validators

from scaffold.web import BaseController, controller, route
from scaffold.web.forms import BaseForm
from scaffold.web.testing import WebTestClient

TAKEN = {"taken@example.com"}


class ContactForm(BaseForm):
    name = StringField("Name", [validators.InputRequired(), validators.Length(max=20)])


class SignUpForm(BaseForm):
    email = StringField("Email", [validators.InputRequired()])

    async def validate_email(self, field: StringField) -> None:
        if field.data in TAKEN:
            raise ValidationError("That address is taken.")


class AsyncLength:
    """A validator object whose __call__ is a coroutine function."""

    async def __call__(self, form: BaseForm, field: StringField) -> None:  # noqa: ARG002 - WTForms' signature
        if len(field.data or "") < 3:
            raise ValidationError("Too short.")


class NickForm(BaseForm):
    nick = StringField("Nick", [AsyncLength()])


@controller(name="forms", url_prefix="/forms")
class FormsController(BaseController):
    @route("/contact", methods=["GET", "POST"])
    async def contact(self) -> ResponseReturnValue:
        form = ContactForm(await self.request.form)
        if self.request.method == "POST" and form.validate():
            return f"hello {form.name.data}"
        return await self.render_template("form.html", form=form)

    @route("/signup", methods=["POST"])
    async def signup(self) -> ResponseReturnValue:
        form = SignUpForm()
        if await form.validate_on_submit():
            return "welcome"
        return {"errors": form.errors}, 422

    @route("/nick", methods=["GET", "POST"])
    async def nick(self) -> ResponseReturnValue:
        form = await NickForm.from_request()
        return {"valid": await form.validate_on_submit(), "errors": form.errors}


TEMPLATES = {"form.html": "<form>{{ form.csrf_token }}{{ form.name }}{{ form.errors }}</form>"}


@pytest.fixture
def app(make_app):
    return make_app(FormsController, templates=TEMPLATES)


async def test_the_token_field_renders_hidden(app) -> None:
    """{{ form.csrf_token }} renders a hidden input named csrf_token with a token."""
    async with WebTestClient(app) as client:
        html = await (await client.get("/forms/contact")).get_data(as_text=True)
    assert '<input id="csrf_token" name="csrf_token" type="hidden" value="' in html


async def test_valid_post_validates(app) -> None:
    """A form with its token and valid data validates."""
    async with WebTestClient(app) as client:
        token = await client.csrf_token()
        response = await client.post("/forms/contact", form={"name": "Ann", "csrf_token": token})
    assert await response.get_data(as_text=True) == "hello Ann"


async def test_field_errors_are_reported(app) -> None:
    """A too long name fails validation and the page shows the error."""
    async with WebTestClient(app) as client:
        token = await client.csrf_token()
        response = await client.post("/forms/contact", form={"name": "x" * 30, "csrf_token": token})
    assert "Field cannot be longer than 20 characters" in await response.get_data(as_text=True)


async def test_the_form_checks_the_token_itself(make_app) -> None:
    """With the app-wide check off, the form still refuses a post without its token."""
    app = make_app(FormsController, templates=TEMPLATES, csrf=False)
    async with WebTestClient(app) as client:
        response = await client.post("/forms/contact", form={"name": "Ann"})
        html = await response.get_data(as_text=True)
    assert "the CSRF token is missing" in html


async def test_async_inline_validator_runs(app) -> None:
    """validate_on_submit awaits an async validate_<field> method."""
    async with WebTestClient(app) as client:
        token = await client.csrf_token()
        taken = await client.post(
            "/forms/signup", form={"email": "taken@example.com", "csrf_token": token}
        )
        free = await client.post(
            "/forms/signup", form={"email": "new@example.com", "csrf_token": token}
        )
    assert taken.status_code == 422
    assert (await taken.get_json())["errors"] == {"email": ["That address is taken."]}
    assert await free.get_data(as_text=True) == "welcome"


async def test_async_validator_objects_run(app) -> None:
    """A validator whose __call__ is a coroutine is awaited too."""
    async with WebTestClient(app) as client:
        token = await client.csrf_token()
        short = await client.post("/forms/nick", form={"nick": "ab", "csrf_token": token})
        fine = await client.post("/forms/nick", form={"nick": "abc", "csrf_token": token})
    assert await short.get_json() == {"valid": False, "errors": {"nick": ["Too short."]}}
    assert (await fine.get_json())["valid"] is True


async def test_validate_on_submit_is_false_for_get(app) -> None:
    """A GET is not a submission."""
    async with WebTestClient(app) as client:
        response = await client.get("/forms/nick")
    assert await response.get_json() == {"valid": False, "errors": {}}


async def test_sync_validate_refuses_async_validators(app) -> None:
    """form.validate() on a form with async validators fails loudly instead of skipping them."""
    async with app.test_request_context("/forms/signup", method="POST"):
        form = SignUpForm(MultiDict({"email": "a@b.c"}))
        with pytest.raises(TypeError, match=r"validate_email.*validate_async"):
            form.validate()


async def test_forms_outside_requests_need_csrf_off() -> None:
    """Outside a request a CSRF form says what to do; with csrf off it works."""
    with pytest.raises(RuntimeError, match=r"meta=\{'csrf': False\}"):
        ContactForm()
    form = ContactForm(MultiDict({"name": "Ann"}), meta={"csrf": False})
    assert form.validate()
    assert await form.validate_async()
