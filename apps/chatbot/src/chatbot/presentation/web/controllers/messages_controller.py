import asyncio
import datetime
import json
import uuid

from quart import ResponseReturnValue
from werkzeug.exceptions import Unauthorized

from chatbot.application.dtos.message import Notice
from chatbot.application.services.message_service import MessageService
from chatbot.domain.message import InvalidMessageError
from scaffold.persistence import uuid7
from scaffold.web import (
    BaseController,
    MalformedMessageError,
    controller,
    error_handler,
    login_required,
    route,
)


@controller(name="messages", url_prefix="/messages")
class MessagesController(BaseController):
    def __init__(self, message_service: MessageService) -> None:
        self.message_service = message_service

    @error_handler(Unauthorized)
    def handle_unauthorized(self, exception: Unauthorized) -> ResponseReturnValue:  # noqa: ARG002 - the handler's signature
        return self.redirect(self.url_for("home.index"))

    @route("/")
    @login_required
    async def index(self) -> ResponseReturnValue:
        user_id = self.session["user_id"]
        messages = await self.message_service.get_messages_for_conversation(user_id)
        # The websocket sends what arrives after this, so nothing falls in between.
        since = messages[0].sent_at if messages else datetime.datetime.now(datetime.UTC)
        return await self.render_template(
            "messages/index.html", messages=messages, since=since, signed_in=True
        )

    @route("/", websocket=True)
    @login_required
    async def websockets(self) -> None:
        user_id = self.session["user_id"]
        since = _parse_time(self.websocket.args.get("since"))
        # Receiving and sending run side by side; when the browser goes away, both end.
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.receive_websocket_messages(user_id))
            tg.create_task(self.send_websocket_messages(user_id, since))

    async def receive_websocket_messages(self, user_id: uuid.UUID) -> None:
        while True:
            raw = await self.websocket.receive()
            try:
                data = json.loads(raw)
                content = data["content"]
            except (ValueError, KeyError, TypeError) as error:
                raise MalformedMessageError(
                    'expected a JSON object with a "content" string'
                ) from error
            if not isinstance(content, str):
                raise MalformedMessageError('"content" must be a string')
            try:
                await self.message_service.send_user_message(
                    user_id=user_id,
                    message_id=uuid7(),
                    content=content,
                    sent_at=datetime.datetime.now(datetime.UTC),
                )
            except InvalidMessageError as error:
                await self.websocket.send(
                    await self.render_template("messages/partials/error.html", error=str(error))
                )

    async def send_websocket_messages(
        self, user_id: uuid.UUID, since: datetime.datetime | None
    ) -> None:
        messages = self.message_service.subscribe_to_user_messages(user_id=user_id, since=since)
        async for message in messages:
            if isinstance(message, Notice):
                response = await self.render_template(
                    "messages/partials/error.html", error=message.text
                )
            else:
                response = await self.render_template(
                    "messages/partials/conversation.html", messages=[message]
                )
            await self.websocket.send(response)


def _parse_time(value: str | None) -> datetime.datetime | None:
    """The `since` query parameter: the newest message the page shows (ISO 8601, aware)."""
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
