import dataclasses
import datetime
import uuid


@dataclasses.dataclass(frozen=True)
class Message:
    id: uuid.UUID
    content: str
    sent_at: datetime.datetime
    is_from_bot: bool


@dataclasses.dataclass(frozen=True)
class Notice:
    """Something the user should know that is not part of the conversation."""

    text: str
