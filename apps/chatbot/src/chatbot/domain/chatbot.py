"""The bot that takes part in a conversation."""

import abc
from collections.abc import Sequence

from .message import BotMessage, Message


class Chatbot(abc.ABC):
    @abc.abstractmethod
    async def reply_to_conversation(self, conversation: Sequence[Message]) -> BotMessage:
        """Reply to a conversation given newest message first."""


class ChatbotUnavailableError(Exception):
    """The bot could not produce a reply (its service failed); the reply can be retried."""
