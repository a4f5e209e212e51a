"""The tutorial's bot: replies come from an OpenAI-compatible chat completions API."""

import datetime
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import override

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from chatbot.domain.chatbot import Chatbot, ChatbotUnavailableError
from chatbot.domain.message import BotMessage, Message, MessageId, UserMessage

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = "You are a friendly, concise assistant in a small chat app."


class OpenAIBot(Chatbot):
    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        clock: Callable[[], datetime.datetime],
        new_id: Callable[[], uuid.UUID],
    ) -> None:
        self.client = client
        self.model = model
        self._clock = clock
        self._new_id = new_id

    @override
    async def reply_to_conversation(self, conversation: Sequence[Message]) -> BotMessage:
        latest_message = conversation[0]
        completion_messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": SYSTEM_PROMPT}
        ]
        for message in reversed(conversation):
            if isinstance(message, UserMessage):
                completion_messages.append({"role": "user", "content": message.content})
            else:
                completion_messages.append({"role": "assistant", "content": message.content})

        try:
            completion = await self.client.chat.completions.create(
                model=self.model, messages=completion_messages
            )
        except openai.OpenAIError as error:
            # The task queue retries the reply; the message names the cause for its dead letter.
            raise ChatbotUnavailableError(f"the chat completions API failed: {error}") from error
        if not completion.choices:
            raise ChatbotUnavailableError("the chat completions API returned no choices")
        content = completion.choices[0].message.content or ""
        if not content.strip():
            raise ChatbotUnavailableError("the chat completions API returned an empty reply")

        return BotMessage(
            id=MessageId(self._new_id()),
            user_id=latest_message.user_id,
            content=content,
            sent_at=max(self._clock(), latest_message.sent_at + datetime.timedelta(microseconds=1)),
        )
