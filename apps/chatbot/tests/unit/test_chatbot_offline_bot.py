"""The offline bot answers sensibly without any network."""

import datetime
import itertools
import uuid

import pytest

from chatbot.domain.message import BotMessage, MessageId, UserId, UserMessage
from chatbot.infrastructure.chatbots.offline import OfflineBot

NOW = datetime.datetime(2026, 12, 4, 9, 30, tzinfo=datetime.UTC)
USER = UserId(uuid.uuid4())


def bot() -> OfflineBot:
    counter = itertools.count(1)
    return OfflineBot(clock=lambda: NOW, new_id=lambda: uuid.UUID(int=next(counter)))


def said(*texts: str) -> list[UserMessage]:
    """A conversation, newest first, of user messages one second apart."""
    return [
        UserMessage(
            id=MessageId(uuid.uuid4()),
            user_id=USER,
            content=text,
            sent_at=NOW - datetime.timedelta(seconds=i),
        )
        for i, text in enumerate(texts)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6 * 7", "6 * 7 = 42"),
        ("(1 + 2) / 4 =", "(1 + 2) / 4 = 0.75"),
        ("2 ** 10", "2 ** 10 = 1024"),
        ("1 / 0", "Dividing by zero is not something even a bot can do."),
        ("hello there", "Hello! Ask me something, or type 'help' to see what I can do."),
        ("what time is it?", "It is Friday, 04 December 2026, 09:30 UTC."),
        ("thanks a lot", "You are welcome!"),
        ("I like my garden", "You say you like your garden. Tell me more."),
        ("are you a robot?", "Good question. What do you think: are I a robot?"),
    ],
)
async def test_rules(text: str, expected: str) -> None:
    """Each rule gives its answer to the newest message."""
    reply = await bot().reply_to_conversation(said(text))
    assert reply.content == expected


async def test_huge_exponent_is_not_evaluated() -> None:
    """A power that would take forever is not arithmetic the bot attempts."""
    reply = await bot().reply_to_conversation(said("9 ** 99999999"))
    assert "=" not in reply.content


async def test_reply_remembers_the_conversation() -> None:
    """The bot can repeat the previous user message and count the messages."""
    conversation = said("what did I say before?", "my cat is called Tom")
    reply = await bot().reply_to_conversation(conversation)
    assert reply.content == 'Before this, you said: "my cat is called Tom"'
    count = await bot().reply_to_conversation(said("how many messages?", "a", "b"))
    assert count.content == "Our conversation has 3 messages so far, this one included."


async def test_reply_is_a_bot_message_after_the_users() -> None:
    """The reply belongs to the same user, gets a fresh id and sorts after the message."""
    conversation = said("hi")
    reply = await bot().reply_to_conversation(conversation)
    assert isinstance(reply, BotMessage)
    assert reply.user_id == USER
    assert reply.id == MessageId(uuid.UUID(int=1))
    assert reply.sent_at > conversation[0].sent_at
