"""Assemblers turn domain objects into the DTOs the presentation layer shows."""

from chatbot.domain.message import BotMessage, Message

from .dtos.message import Message as MessageDTO


class MessageAssembler:
    @staticmethod
    def assemble_dto(message: Message) -> MessageDTO:
        return MessageDTO(
            id=message.id.value,
            content=message.content,
            sent_at=message.sent_at,
            is_from_bot=isinstance(message, BotMessage),
        )
