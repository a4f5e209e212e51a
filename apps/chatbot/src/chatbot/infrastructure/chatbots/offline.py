"""A rule-based bot that needs no network: the embedded default and what the tests talk to."""

import ast
import datetime
import operator
import re
import uuid
from collections.abc import Callable, Sequence
from typing import override

from chatbot.domain.chatbot import Chatbot
from chatbot.domain.message import BotMessage, Message, MessageId, UserMessage

type Clock = Callable[[], datetime.datetime]
type IdFactory = Callable[[], uuid.UUID]

MAX_EXPRESSION_LENGTH = 80
MAX_POWER_EXPONENT = 100

HELP = (
    "I am the offline demo bot. I can do arithmetic (try 6 * 7), tell the time in UTC, "
    "count our messages, and remind you what you said before. Anything else, I will "
    "reflect back to you."
)

REFLECTIONS = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "am": "are",
    "i'm": "you're",
    "you": "I",
    "your": "my",
    "yours": "mine",
    "you're": "I'm",
}

OPERATORS: dict[type[ast.operator | ast.unaryop], Callable[..., float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


class OfflineBot(Chatbot):
    """Answers from a few rules; deterministic for a given clock, so tests can rely on it."""

    def __init__(self, clock: Clock, new_id: IdFactory) -> None:
        self._clock = clock
        self._new_id = new_id

    @override
    async def reply_to_conversation(self, conversation: Sequence[Message]) -> BotMessage:
        latest = conversation[0]
        return BotMessage(
            id=MessageId(self._new_id()),
            user_id=latest.user_id,
            content=self.answer(latest.content, conversation),
            sent_at=max(self._clock(), latest.sent_at + datetime.timedelta(microseconds=1)),
        )

    def answer(self, text: str, conversation: Sequence[Message]) -> str:
        words = re.findall(r"[a-z']+", text.lower())
        reply = (
            _arithmetic(text)
            or self._small_talk(words)
            or self._about_the_conversation(text.lower(), words, conversation)
        )
        if reply is not None:
            return reply
        reflected = " ".join(REFLECTIONS.get(word, word) for word in words)
        if text.rstrip().endswith("?"):
            return f"Good question. What do you think: {reflected}?"
        return f"You say {reflected}. Tell me more." if reflected else "Tell me more."

    def _small_talk(self, words: list[str]) -> str | None:
        first = words[0] if words else ""
        if first in {"hi", "hello", "hey", "hallo", "howdy"}:
            return "Hello! Ask me something, or type 'help' to see what I can do."
        if "help" in words:
            return HELP
        if first.startswith("thank"):
            return "You are welcome!"
        if first in {"bye", "goodbye"}:
            return "Goodbye! Your conversation stays here for when you come back."
        if {"time", "date", "day"} & set(words):
            now = self._clock().astimezone(datetime.UTC)
            return f"It is {now:%A, %d %B %Y, %H:%M} UTC."
        return None

    @staticmethod
    def _about_the_conversation(
        text: str, words: list[str], conversation: Sequence[Message]
    ) -> str | None:
        if "how many" in text and "message" in text:
            return f"Our conversation has {len(conversation)} messages so far, this one included."
        if {"repeat", "before", "previous"} & set(words):
            earlier = [m for m in conversation[1:] if isinstance(m, UserMessage)]
            if not earlier:
                return "This is the first thing you have said to me."
            return f'Before this, you said: "{earlier[0].content}"'
        return None


def _arithmetic(text: str) -> str | None:
    expression = text.strip().rstrip("=?").strip()
    if not expression or len(expression) > MAX_EXPRESSION_LENGTH:
        return None
    if not re.fullmatch(r"[\d\s.+\-*/%()]+", expression) or not re.search(r"\d", expression):
        return None
    try:
        value = _evaluate(ast.parse(expression, mode="eval").body)
    except ZeroDivisionError:
        return "Dividing by zero is not something even a bot can do."
    except (SyntaxError, ValueError, OverflowError):
        return None
    if value == int(value):
        return f"{expression} = {int(value)}"
    return f"{expression} = {value:.10g}"


def _evaluate(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_POWER_EXPONENT:
            raise ValueError("exponent too large")
        return OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError("not arithmetic")
