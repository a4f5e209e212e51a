import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from scaffold.persistence.model import Base, EntityMixin, TimestampMixin


class Message(EntityMixin, TimestampMixin, Base):
    __tablename__ = "message"
    __table_args__ = (sa.Index("ix_message_user_id_sent_at", "user_id", "sent_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    content: Mapped[str] = mapped_column(sa.Text())
    sent_at: Mapped[datetime.datetime] = mapped_column(nullable=False)
    is_from_bot: Mapped[bool] = mapped_column(nullable=False)
