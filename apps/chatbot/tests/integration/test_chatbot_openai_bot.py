"""The OpenAI bot against a local OpenAI-compatible HTTP server."""

import datetime
import uuid
from collections.abc import Iterator

import pytest
from openai import AsyncOpenAI
from openai_compatible_server import FakeCompletionsServer, completions_server

from chatbot.domain.chatbot import ChatbotUnavailableError
from chatbot.domain.message import BotMessage, MessageId, UserId, UserMessage
from chatbot.infrastructure.chatbots.openai_bot import OpenAIBot

NOW = datetime.datetime(2026, 12, 4, 9, 30, tzinfo=datetime.UTC)
USER = UserId(uuid.uuid4())


@pytest.fixture
def server() -> Iterator[FakeCompletionsServer]:
    with completions_server() as state:
        yield state


def bot(server: FakeCompletionsServer) -> OpenAIBot:
    client = AsyncOpenAI(api_key="test-key", base_url=server.url, max_retries=0)
    return OpenAIBot(client, model="gpt-test", clock=lambda: NOW, new_id=uuid.uuid4)


def conversation() -> list[UserMessage | BotMessage]:
    """Newest first: the user asked, the bot answered, the user asks again."""
    return [
        UserMessage(MessageId(uuid.uuid4()), USER, "and now?", NOW),
        BotMessage(MessageId(uuid.uuid4()), USER, "first answer", NOW - datetime.timedelta(1)),
        UserMessage(MessageId(uuid.uuid4()), USER, "first question", NOW - datetime.timedelta(2)),
    ]


async def test_sends_the_conversation_oldest_first_and_returns_the_reply(
    server: FakeCompletionsServer,
) -> None:
    """The API sees system prompt, then the turns in order; the reply becomes a BotMessage."""
    reply = await bot(server).reply_to_conversation(conversation())
    assert reply.content == "Hello from the model."
    assert reply.user_id == USER
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer test-key"
    assert request["body"]["model"] == "gpt-test"
    assert [(m["role"], m["content"]) for m in request["body"]["messages"][1:]] == [
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "and now?"),
    ]


async def test_failing_api_raises_a_retryable_error(server: FakeCompletionsServer) -> None:
    """A 500 from the API surfaces as ChatbotUnavailableError naming the cause."""
    server.fail_next = 1
    with pytest.raises(ChatbotUnavailableError, match="chat completions API failed"):
        await bot(server).reply_to_conversation(conversation())


async def test_empty_reply_is_an_error(server: FakeCompletionsServer) -> None:
    """An empty completion is not stored as a blank bot message."""
    server.reply = "  "
    with pytest.raises(ChatbotUnavailableError, match="empty reply"):
        await bot(server).reply_to_conversation(conversation())
