"""The 0.9 tutorial's presentation layer, written as the tutorial writes it, still works."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import uuid
from collections.abc import AsyncGenerator, Sequence

import pytest
from quart import ResponseReturnValue
from quart.testing import WebsocketResponseError
from werkzeug.exceptions import Unauthorized
from wtforms import EmailField, validators

from scaffold.web import BaseController, controller, error_handler, login_required, route
from scaffold.web.forms import BaseForm
from scaffold.web.testing import WebTestClient

# --- application layer stand-ins (the tutorial's services, in memory) ---


@dataclasses.dataclass(frozen=True)
class MessageDTO:
    content: str
    sent_at: datetime.datetime
    is_from_bot: bool


class UserService:
    def __init__(self) -> None:
        self.welcomed: list[str] = []

    async def send_welcome_message(self, email: str) -> None:
        self.welcomed.append(email)


class MessageService:
    def __init__(self) -> None:
        self.messages: dict[uuid.UUID, list[MessageDTO]] = {}
        self.queues: dict[uuid.UUID, asyncio.Queue[MessageDTO]] = {}

    async def get_messages_for_conversation(self, user_id: uuid.UUID) -> Sequence[MessageDTO]:
        return list(self.messages.get(user_id, []))

    async def send_user_message(
        self,
        user_id: uuid.UUID,
        message_id: uuid.UUID,
        content: str,
        sent_at: datetime.datetime,
    ) -> None:
        assert isinstance(message_id, uuid.UUID)
        message = MessageDTO(content=content, sent_at=sent_at, is_from_bot=False)
        self.messages.setdefault(user_id, []).append(message)
        await self.queues.setdefault(user_id, asyncio.Queue()).put(message)

    async def subscribe_to_user_messages(self, user_id: uuid.UUID) -> AsyncGenerator[MessageDTO]:
        queue = self.queues.setdefault(user_id, asyncio.Queue())
        while True:
            yield await queue.get()


# --- the tutorial's presentation layer ---


class SignUpForm(BaseForm):
    email = EmailField("Email address", [validators.InputRequired()])


@controller(name="home")
class HomeController(BaseController):
    def __init__(
        self,
        user_service: UserService,
    ) -> None:
        self.user_service = user_service

    @route("/")
    async def index(self) -> ResponseReturnValue:
        if "user_id" in self.session:
            return self.redirect(self.url_for("messages.index"))

        form = SignUpForm()
        return await self.render_template("home/index.html", form=form)

    @route("/", methods=["POST"])
    async def create(self) -> ResponseReturnValue:
        form = SignUpForm(await self.request.form)

        if form.validate():
            user_id = uuid.uuid4()
            await self.user_service.send_welcome_message(email=form.email.data)
            self.session["user_id"] = user_id
            return self.redirect(self.url_for(".index"))

        return await self.render_template("home/index.html", form=form)


@controller(name="messages", url_prefix="/messages")
class MessagesController(BaseController):
    def __init__(
        self,
        message_service: MessageService,
    ) -> None:
        self.message_service = message_service

    @error_handler(Unauthorized)
    def handle_unauthorized(self, exception: Unauthorized) -> ResponseReturnValue:  # noqa: ARG002 - as the tutorial writes it
        return self.redirect(self.url_for("home.index"))

    @route("/")
    @login_required
    async def index(self) -> ResponseReturnValue:
        user_id = self.session["user_id"]
        messages = await self.message_service.get_messages_for_conversation(user_id)
        return await self.render_template("messages/index.html", messages=messages)

    @route("/", websocket=True)
    @login_required
    async def websockets(self) -> None:
        user_id = self.session["user_id"]
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.receive_websocket_messages(user_id))
                tg.create_task(self.send_websocket_messages(user_id))

        except asyncio.CancelledError:  # noqa: TRY203 - as the tutorial writes it
            # Handle disconnection here
            raise

    async def receive_websocket_messages(
        self,
        user_id: uuid.UUID,
    ) -> None:
        while True:
            data = json.loads(await self.websocket.receive())

            await self.message_service.send_user_message(
                user_id=user_id,
                message_id=uuid.uuid4(),
                content=data["content"],
                sent_at=datetime.datetime.now(),  # noqa: DTZ005 - as the tutorial writes it
            )

    async def send_websocket_messages(
        self,
        user_id: uuid.UUID,
    ) -> None:
        async for message in self.message_service.subscribe_to_user_messages(user_id=user_id):
            response = await self.render_template(
                "messages/partials/conversation.html",
                messages=[message],
            )
            await self.websocket.send(response)


TEMPLATES = {
    "layout.html": "<!doctype html><main>{% block content %}{% endblock content %}</main>",
    "home/index.html": """{% extends "layout.html" %}
{% block content %}
  <form method="post" action="{{ url_for('.create') }}">
    {{ form.email(class="start-chat__input", placeholder="Enter your email") }}
    {{ form.csrf_token }}
    {% for error in form.email.errors %}<p class="error">{{ error }}</p>{% endfor %}
  </form>
{% endblock content %}""",
    "messages/index.html": """{% extends "layout.html" %}
{% block content %}
  <div class="chat" hx-ext="ws" ws-connect="{{ url_for('.websockets') }}">
    {% include "messages/partials/conversation.html" %}
  </div>
{% endblock content %}""",
    "messages/partials/conversation.html": """<div id="chat-messages">
  {% for message in messages %}
    <div class="message {{ "message--sent" if not message.is_from_bot else "message--received" }}">
      <div class="message__bubble">{{ message.content }}</div>
      <div class="message__time">{{ message.sent_at | time_ago }}</div>
    </div>
  {% endfor %}
</div>""",
}


@pytest.fixture
def services() -> tuple[UserService, MessageService]:
    return UserService(), MessageService()


@pytest.fixture
def app(make_app, services: tuple[UserService, MessageService]):
    user_service, message_service = services
    return make_app(
        HomeController,
        MessagesController,
        instances={UserService: user_service, MessageService: message_service},
        templates=TEMPLATES,
    )


def token_from(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


class TestSignUp:
    async def test_home_page_renders_the_form_with_a_csrf_token(self, app) -> None:
        """GET / renders the sign-up form with its hidden CSRF token and url_for('.create')."""
        async with WebTestClient(app) as client:
            response = await client.get("/")
            html = await response.get_data(as_text=True)
        assert response.status_code == 200
        assert 'action="/"' in html
        assert len(token_from(html)) > 40

    async def test_sign_up_without_token_is_refused(self, app, services) -> None:
        """A form post without the CSRF token gets 400 and the service is not called."""
        async with WebTestClient(app) as client:
            await client.get("/")
            response = await client.post("/", form={"email": "ann@example.com"})
            body = await response.get_data(as_text=True)
        assert response.status_code == 400
        assert "CSRF token is missing" in body
        assert services[0].welcomed == []

    async def test_sign_up_signs_in_and_leads_to_the_messages(self, app, services) -> None:
        """A valid sign-up welcomes the user, stores the id and redirects to the chat."""
        async with WebTestClient(app) as client:
            token = token_from(await (await client.get("/")).get_data(as_text=True))
            response = await client.post(
                "/", form={"email": "ann@example.com", "csrf_token": token}
            )
            assert response.status_code == 302
            assert response.location == "/"
            again = await client.get("/")
            assert again.status_code == 302
            assert again.location == "/messages/"
            page = await client.get("/messages/")
            assert page.status_code == 200
            assert 'ws-connect="ws://localhost/messages/"' in await page.get_data(as_text=True)
        assert services[0].welcomed == ["ann@example.com"]

    async def test_invalid_email_renders_the_errors(self, app, services) -> None:
        """An empty email re-renders the form with the validation error."""
        async with WebTestClient(app) as client:
            token = await client.csrf_token()
            response = await client.post("/", form={"email": "", "csrf_token": token})
            html = await response.get_data(as_text=True)
        assert response.status_code == 200
        assert 'class="error"' in html
        assert services[0].welcomed == []


class TestMessages:
    async def test_anonymous_visitor_is_redirected_home(self, app) -> None:
        """login_required raises Unauthorized, which the controller's error handler redirects."""
        async with WebTestClient(app) as client:
            response = await client.get("/messages/")
        assert response.status_code == 302
        assert response.location == "/"

    async def test_anonymous_websocket_is_refused(self, app) -> None:
        """A websocket without a signed-in user gets the error handler's redirect, not a socket."""
        async with WebTestClient(app) as client:
            with pytest.raises(WebsocketResponseError) as refused:
                async with client.websocket("/messages/") as socket:
                    await socket.receive()
        assert refused.value.response.status_code == 302

    async def test_chat_over_the_websocket(self, app, services) -> None:
        """Messages sent over the socket reach the service and come back rendered, escaped."""
        user_id = uuid.uuid4()
        async with WebTestClient(app) as client:
            await client.login(user_id)
            async with client.websocket("/messages/") as socket:
                await socket.send(json.dumps({"content": "<script>alert(1)</script>"}))
                partial = await asyncio.wait_for(socket.receive(), 5)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in partial
        assert "<script>" not in partial
        assert "just now" in partial
        assert [m.content for m in services[1].messages[user_id]] == ["<script>alert(1)</script>"]

    async def test_messages_page_lists_the_conversation(self, app, services) -> None:
        """The messages page shows the stored conversation with time_ago."""
        user_id = uuid.uuid4()
        two_hours_ago = datetime.datetime.now() - datetime.timedelta(hours=2)  # noqa: DTZ005
        services[1].messages[user_id] = [MessageDTO("hello", two_hours_ago, is_from_bot=False)]
        async with WebTestClient(app) as client:
            await client.login(user_id)
            html = await (await client.get("/messages/")).get_data(as_text=True)
        assert "hello" in html
        assert "2 hours ago" in html

    async def test_health(self, app) -> None:
        """/health answers 200 for load balancers."""
        async with WebTestClient(app) as client:
            response = await client.get("/health")
        assert response.status_code == 200
