import dataclasses
import datetime
import uuid


@dataclasses.dataclass(frozen=True)
class Message:
    id: uuid.UUID
    content: str
    sent_at: datetime.datetime
    is_from_bot: bool
