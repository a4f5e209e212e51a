"""Messages of a conversation between a user and the bot."""

import abc
import dataclasses
import datetime
from collections.abc import Sequence
from typing import override

from .base import Entity, EntityId

MAX_CONTENT_LENGTH = 4000


@dataclasses.dataclass(frozen=True)
class MessageId(EntityId):
    pass


@dataclasses.dataclass(frozen=True)
class UserId(EntityId):
    pass


class InvalidMessageError(ValueError):
    """A message whose content breaks the rules of a conversation."""


class Message(Entity):
    def __init__(
        self,
        id: MessageId,  # noqa: A002 - the tutorial's name for an entity's identity
        user_id: UserId,
        content: str,
        sent_at: datetime.datetime,
    ) -> None:
        if not content.strip():
            raise InvalidMessageError("a message needs some text")
        if len(content) > MAX_CONTENT_LENGTH:
            raise InvalidMessageError(
                f"a message may have at most {MAX_CONTENT_LENGTH} characters, "
                f"this one has {len(content)}"
            )
        if sent_at.tzinfo is None:
            raise InvalidMessageError("sent_at must be timezone-aware")
        self._id = id
        self._user_id = user_id
        self._content = content
        self._sent_at = sent_at

    @property
    @override
    def id(self) -> MessageId:
        return self._id

    @property
    def user_id(self) -> UserId:
        return self._user_id

    @property
    def content(self) -> str:
        return self._content

    @property
    def sent_at(self) -> datetime.datetime:
        return self._sent_at


class UserMessage(Message):
    pass


class BotMessage(Message):
    pass


class MessageRepository(abc.ABC):
    @abc.abstractmethod
    async def get(self, id: MessageId) -> Message | None:  # noqa: A002 - tutorial API
        pass

    @abc.abstractmethod
    def add(self, message: Message) -> None:
        pass

    @abc.abstractmethod
    async def get_user_messages(self, user_id: UserId) -> Sequence[Message]:
        """The user's conversation, newest message first."""

    @abc.abstractmethod
    async def remove_sent_before(self, cutoff: datetime.datetime) -> int:
        """Remove every message sent before `cutoff`; returns how many were removed."""
