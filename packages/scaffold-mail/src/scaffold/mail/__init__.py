"""scaffold.mail: compose messages, render them from Jinja2 templates and send them.

Senders share the `MailSender` interface: `SmtpMailSender` (aiosmtplib),
`ConsoleMailSender` (the embedded default), `InMemoryMailSender` (for tests),
`FileMailSender` (`.eml` files) and `QueuedMailSender` (through a task queue, delivered
later by `deliver_payload`). `mail_sender_from_url` picks one from configuration.
"""

from ._addresses import Address, parse_address
from ._attachment import Attachment
from ._console import ConsoleMailSender
from ._errors import (
    BatchDeliveryError,
    HeaderInjectionError,
    InvalidAddressError,
    InvalidMessageError,
    InvalidPayloadError,
    MailDeliveryError,
    MailError,
    RecipientsRefusedError,
    TemplateError,
)
from ._file import FileMailSender
from ._headers import RESERVED_HEADERS
from ._memory import InMemoryMailSender, SentMail
from ._message import Message
from ._mime import build_mime, new_message_id
from ._notification import EmailNotificationService
from ._payload import message_from_payload, message_to_payload
from ._preview import format_preview, preview_mail
from ._queued import QueuedMailSender, deliver_payload
from ._smtp import SmtpConnection, SmtpMailSender, SmtpSecurity
from ._templates import MailTemplates, RenderedMail
from ._url import mail_sender_from_url
from .types import AttachmentPayload, Enqueue, MailPayload, MailSender

__all__ = [
    "RESERVED_HEADERS",
    "Address",
    "Attachment",
    "AttachmentPayload",
    "BatchDeliveryError",
    "ConsoleMailSender",
    "EmailNotificationService",
    "Enqueue",
    "FileMailSender",
    "HeaderInjectionError",
    "InMemoryMailSender",
    "InvalidAddressError",
    "InvalidMessageError",
    "InvalidPayloadError",
    "MailDeliveryError",
    "MailError",
    "MailPayload",
    "MailSender",
    "MailTemplates",
    "Message",
    "QueuedMailSender",
    "RecipientsRefusedError",
    "RenderedMail",
    "SentMail",
    "SmtpConnection",
    "SmtpMailSender",
    "SmtpSecurity",
    "TemplateError",
    "build_mime",
    "deliver_payload",
    "format_preview",
    "mail_sender_from_url",
    "message_from_payload",
    "message_to_payload",
    "new_message_id",
    "parse_address",
    "preview_mail",
]
