"""The message value object: who sends what to whom, checked when it is created."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ._addresses import Address, parse_address
from ._attachment import Attachment
from ._errors import InvalidMessageError
from ._headers import check_extra_headers, check_header_value

_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")


@dataclasses.dataclass(frozen=True)
class Message:
    """An e-mail to send, validated on creation.

    Parameters:
        subject: one line of text (any characters but line breaks).
        recipients: the To addresses; `user@example.com` or `Name <user@example.com>`.
        sender: the From address.
        body: the plain-text version.
        html: the HTML version, if any; mail clients show it instead of `body`.
        reply_to: where replies go, one address or several.
        headers: extra headers (`X-...`, `List-Unsubscribe`, `In-Reply-To`, ...); headers
            that the sender writes itself (From, To, Subject, Message-ID, Content-Type and
            the like) are refused.
        cc, bcc: further recipients; Bcc addresses receive the message but appear in no
            header of the copies that are sent.
        attachments: files to attach, or to embed in the HTML (`Attachment.content_id`).
        message_id: a fixed Message-ID (`<unique@domain>`); a new one is made when sent
            if it is not given.

    Address lists are stored as tuples and `headers` as a read-only mapping. Every
    problem raises `InvalidMessageError` (a `ValueError`) naming the field; a line break
    in any header or address raises its subclass `HeaderInjectionError`.
    """

    subject: str
    recipients: Sequence[str]
    sender: str
    body: str
    html: str | None = None
    reply_to: str | Sequence[str] | None = None
    headers: Mapping[str, str] | None = None
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    attachments: Sequence[Attachment] = ()
    message_id: str | None = None

    def __post_init__(self) -> None:
        check_header_value("subject", self.subject)
        parse_address(self.sender, field="sender")
        for name in ("recipients", "cc", "bcc", "reply_to"):
            self._set(name, _address_tuple(name, getattr(self, name)))
        if not (self.recipients or self.cc or self.bcc):
            raise InvalidMessageError(
                "a message needs at least one recipient (recipients, cc or bcc)"
            )
        if not isinstance(self.body, str):
            raise InvalidMessageError(f"body: expected a string, got {type(self.body).__name__}")
        if self.html is not None and not isinstance(self.html, str):
            raise InvalidMessageError(f"html: expected a string, got {type(self.html).__name__}")
        self._set("headers", MappingProxyType(check_extra_headers(self.headers or {})))
        self._set(
            "attachments", _attachment_tuple(self.attachments, has_html=self.html is not None)
        )
        if self.message_id is not None:
            check_header_value("message_id", self.message_id)
            if not _MESSAGE_ID.fullmatch(self.message_id):
                raise InvalidMessageError(
                    f"message_id: {self.message_id!r} is not a Message-ID (<unique@domain>)"
                )

    def _set(self, name: str, value: object) -> None:
        # The dataclass is frozen for users; normalising the inputs happens only here.
        object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Message:  # noqa: ANN401 - the fields' own types
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    @property
    def envelope_sender(self) -> str:
        """The address the SMTP envelope gives as the sender (MAIL FROM)."""
        return parse_address(self.sender).addr_spec

    @property
    def envelope_recipients(self) -> tuple[str, ...]:
        """Every address the message goes to (To, Cc and Bcc), each once, in order."""
        seen: dict[str, str] = {}
        for value in (*self.recipients, *self.cc, *self.bcc):
            addr_spec = parse_address(value).addr_spec
            seen.setdefault(addr_spec.lower(), addr_spec)
        return tuple(seen.values())

    def addresses(self, name: str) -> tuple[Address, ...]:
        """The parsed addresses of `recipients`, `cc`, `bcc`, `reply_to` or `sender`."""
        if name == "sender":
            return (parse_address(self.sender),)
        values: Sequence[str] = getattr(self, name)
        return tuple(parse_address(value, field=name) for value in values)


def _address_tuple(field: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # A single address given as a string is one recipient, not one per character.
        value = (value,)
    if not isinstance(value, Sequence):
        raise InvalidMessageError(
            f"{field}: expected a list of addresses, got {type(value).__name__}"
        )
    for index, item in enumerate(value):
        parse_address(item, field=f"{field}[{index}]")
    return tuple(value)


def _attachment_tuple(value: object, *, has_html: bool) -> tuple[Attachment, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise InvalidMessageError(
            f"attachments: expected a list of Attachment, got {type(value).__name__}"
        )
    content_ids: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, Attachment):
            raise InvalidMessageError(
                f"attachments[{index}]: expected an Attachment, got {type(item).__name__}"
            )
        if item.content_id is not None:
            if not has_html:
                raise InvalidMessageError(
                    f"attachments[{index}]: {item.filename!r} has a content_id, which only an "
                    "HTML version can refer to, and the message has none"
                )
            if item.content_id in content_ids:
                raise InvalidMessageError(
                    f"attachments[{index}]: content_id {item.content_id!r} is used twice"
                )
            content_ids.add(item.content_id)
    return tuple(value)
