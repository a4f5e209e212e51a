"""Mail through a task queue: enqueue now, deliver in a worker, retry until it is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, override

from ._mime import new_message_id
from ._payload import message_from_payload, message_to_payload
from .types import MailSender

if TYPE_CHECKING:
    from ._message import Message
    from .types import Enqueue


class QueuedMailSender(MailSender):
    """Hands each message to a task queue instead of sending it.

    `send` gives the Message-ID to the message, turns it into a `MailPayload` (plain
    JSON) and awaits `enqueue(payload)`; the mail is as safe as the queue's storage. A
    queue task then calls `deliver_payload(payload, smtp_sender)`, which raises when the
    server refuses or cannot be reached, so the queue retries the task with backoff and
    finally dead-letters it with the error. Every attempt sends the same Message-ID.
    """

    def __init__(self, enqueue: Enqueue, *, message_id_domain: str | None = None) -> None:
        self.enqueue = enqueue
        self.message_id_domain = message_id_domain

    @override
    async def send(self, message: Message, /) -> str:
        message_id = message.message_id or new_message_id(self.message_id_domain)
        await self.enqueue(message_to_payload(message, message_id=message_id))
        return message_id


async def deliver_payload(payload: object, sender: MailSender) -> str:
    """Send the message of a queued payload with `sender`; return its Message-ID.

    Raises `InvalidPayloadError` for a payload that holds no valid message, and the
    sender's `MailDeliveryError` when delivery fails: a task queue retries on the error
    and dead-letters the task after its last attempt.
    """
    return await sender.send(message_from_payload(payload))
