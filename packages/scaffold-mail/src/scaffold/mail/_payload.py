"""A message as plain JSON data and back, for storing it in a task queue."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any, Final

from ._attachment import Attachment
from ._errors import InvalidMessageError, InvalidPayloadError
from ._message import Message

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .types import AttachmentPayload, MailPayload

PAYLOAD_VERSION: Final = 1
_LIST_FIELDS = ("recipients", "cc", "bcc", "reply_to")
_KEYS = frozenset(
    {
        "version",
        "message_id",
        "subject",
        "sender",
        "body",
        "html",
        "headers",
        "attachments",
        *_LIST_FIELDS,
    }
)
_ATTACHMENT_KEYS = frozenset({"filename", "content_type", "content_id", "content_base64"})


def message_to_payload(message: Message, *, message_id: str) -> MailPayload:
    """The JSON-ready form of `message`, sent as `message_id` whenever it is delivered."""
    return {
        "version": PAYLOAD_VERSION,
        "message_id": message_id,
        "subject": message.subject,
        "sender": message.sender,
        "recipients": list(message.recipients),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": _as_list(message.reply_to),
        "body": message.body,
        "html": message.html,
        "headers": dict(message.headers or {}),
        "attachments": [_attachment_payload(attachment) for attachment in message.attachments],
    }


def message_from_payload(payload: object) -> Message:
    """Rebuild the message of a payload made by `message_to_payload`.

    Raises `InvalidPayloadError` saying what is wrong with a payload that is not one.
    """
    if not isinstance(payload, dict):
        raise InvalidPayloadError(f"a mail payload is a dict, got {type(payload).__name__}")
    data: dict[str, Any] = payload
    if data.get("version") != PAYLOAD_VERSION:
        raise InvalidPayloadError(
            f"mail payload version {data.get('version')!r} is not supported (expected "
            f"{PAYLOAD_VERSION}); was it written by a newer scaffold-mail?"
        )
    missing = sorted(_KEYS - data.keys())
    unknown = sorted(data.keys() - _KEYS)
    if missing or unknown:
        problems = [
            f"{label} keys {keys}"
            for label, keys in (("missing", missing), ("unknown", unknown))
            if keys
        ]
        raise InvalidPayloadError(f"mail payload: {', '.join(problems)}")
    for name in _LIST_FIELDS:
        if not isinstance(data[name], list):
            raise InvalidPayloadError(f"mail payload: {name} must be a list")
    if not isinstance(data["headers"], dict) or not isinstance(data["attachments"], list):
        raise InvalidPayloadError("mail payload: headers must be a dict and attachments a list")
    try:
        return Message(
            subject=data["subject"],
            recipients=data["recipients"],
            sender=data["sender"],
            body=data["body"],
            html=data["html"],
            reply_to=data["reply_to"],
            headers=data["headers"],
            cc=data["cc"],
            bcc=data["bcc"],
            attachments=[
                _attachment(index, item) for index, item in enumerate(data["attachments"])
            ],
            message_id=data["message_id"],
        )
    except InvalidMessageError as error:
        raise InvalidPayloadError(f"mail payload does not hold a valid message: {error}") from error


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    # Message stores reply_to as a tuple; its declared type also admits the inputs.
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _attachment_payload(attachment: Attachment) -> AttachmentPayload:
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "content_id": attachment.content_id,
        "content_base64": base64.b64encode(attachment.content).decode("ascii"),
    }


def _attachment(index: int, item: object) -> Attachment:
    if not isinstance(item, dict) or item.keys() != _ATTACHMENT_KEYS:
        raise InvalidPayloadError(
            f"mail payload: attachments[{index}] must be a dict with the keys "
            f"{sorted(_ATTACHMENT_KEYS)}"
        )
    encoded = item["content_base64"]
    try:
        content = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else None
    except binascii.Error:
        content = None
    if content is None:
        raise InvalidPayloadError(
            f"mail payload: attachments[{index}].content_base64 is not base64"
        )
    return Attachment(
        filename=item["filename"],
        content=content,
        content_type=item["content_type"],
        content_id=item["content_id"],
    )
