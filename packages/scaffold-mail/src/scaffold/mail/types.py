"""The seams of scaffold-mail: the sender interface and the queued-mail payload.

`MailSender` is what application code depends on; every sender implements it.
`MailPayload` and `Enqueue` are the contract with a task queue: `QueuedMailSender` hands
a `MailPayload` (plain JSON: str, int, None, lists and dicts) to an `Enqueue` callable, and
the queue's worker gives it back to `deliver_payload`.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Literal, TypedDict

from ._batch import send_each

if TYPE_CHECKING:
    from ._message import Message


class MailSender(abc.ABC):
    """Sends messages. Subclass it to add a transport; the others are in `scaffold.mail`."""

    @abc.abstractmethod
    async def send(self, message: Message, /) -> str:
        """Send the message and return the Message-ID header value it was sent with.

        Raises `MailDeliveryError` when it was not delivered.
        """

    async def send_many(self, messages: Iterable[Message], /) -> list[str]:
        """Send several messages, returning their Message-IDs in order.

        Every message is attempted; if any fails, `BatchDeliveryError` says which ones
        were sent and why the others were not. Senders that can (SMTP) share one
        connection for the batch.
        """
        return await send_each(self.send, messages)


class AttachmentPayload(TypedDict):
    """One attachment inside a `MailPayload`; the bytes are base64 text."""

    filename: str
    content_type: str
    content_id: str | None
    content_base64: str


class MailPayload(TypedDict):
    """A message as plain JSON data, for storage in a task queue (format version 1)."""

    version: Literal[1]
    message_id: str
    subject: str
    sender: str
    recipients: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: list[str]
    body: str
    html: str | None
    headers: dict[str, str]
    attachments: list[AttachmentPayload]


# Stores the payload durably (a task queue's enqueue); its return value is ignored.
type Enqueue = Callable[[MailPayload], Awaitable[object]]
