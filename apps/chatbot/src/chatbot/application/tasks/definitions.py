"""The background tasks of the chatbot: frozen dataclasses of plain values."""

import dataclasses
import uuid

from chatbot.application.interfaces import Task


@dataclasses.dataclass(frozen=True)
class ReplyToConversationTask(Task):
    user_id: uuid.UUID


@dataclasses.dataclass(frozen=True)
class SendWelcomeEmailTask(Task):
    email: str


@dataclasses.dataclass(frozen=True)
class PruneOldConversationsTask(Task):
    """The nightly clean-up: messages sent more than `max_age_days` ago are removed."""

    max_age_days: int
