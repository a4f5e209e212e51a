import datetime
from collections.abc import Sequence
from typing import override

import sqlalchemy as sa

from chatbot.domain.message import (
    BotMessage,
    Message,
    MessageId,
    MessageRepository,
    UserId,
    UserMessage,
)
from scaffold.persistence.repository import GenericSqlRepository

from .model import Message as MessageDTO


class SqlMessageRepository(GenericSqlRepository[Message, MessageId, MessageDTO], MessageRepository):
    @override
    async def get_user_messages(self, user_id: UserId) -> Sequence[Message]:
        dtos = (
            await self._session.scalars(
                sa.select(MessageDTO)
                .where(MessageDTO.user_id == user_id.value)
                .order_by(MessageDTO.sent_at.desc()),
            )
        ).all()
        return [self.map_dto_to_entity_and_track(dto) for dto in dtos]

    @override
    async def remove_sent_before(self, cutoff: datetime.datetime) -> int:
        result = await self._session.execute(
            sa.delete(MessageDTO).where(MessageDTO.sent_at < cutoff)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    @override
    def _map_entity_to_dto(self, entity: Message) -> MessageDTO:
        return MessageDTO(
            id=entity.id.value,
            user_id=entity.user_id.value,
            content=entity.content,
            sent_at=entity.sent_at,
            is_from_bot=isinstance(entity, BotMessage),
        )

    @override
    def _map_dto_to_entity(self, dto: MessageDTO) -> Message:
        kind = BotMessage if dto.is_from_bot else UserMessage
        return kind(
            id=MessageId(dto.id),
            user_id=UserId(dto.user_id),
            content=dto.content,
            sent_at=dto.sent_at,
        )
