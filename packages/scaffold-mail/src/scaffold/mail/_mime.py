"""Turning a `Message` into the MIME document that goes over the wire."""

from __future__ import annotations

import datetime
import functools
import socket
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._message import Message

# 7-bit clean output (quoted-printable or base64 for anything else) is accepted by every
# server, whether or not it offers 8BITMIME; CRLF line ends as SMTP wants them.
POLICY = policy.SMTP.clone(cte_type="7bit")


@functools.cache
def _local_domain() -> str:
    # socket.getfqdn may wait for DNS; make_msgid would call it for every message.
    return socket.getfqdn()


def new_message_id(domain: str | None = None) -> str:
    """A fresh, globally unique Message-ID, `<...@domain>` (the local host name by default)."""
    return make_msgid(domain=domain or _local_domain())


def build_mime(
    message: Message,
    *,
    message_id: str,
    date: datetime.datetime | None = None,
    include_bcc: bool = False,
) -> EmailMessage:
    """Build the MIME document of `message`.

    The structure is the simplest that holds the content: `text/plain` alone;
    `multipart/alternative` (text, then HTML) when there is HTML; the HTML inside
    `multipart/related` with the inline files when there are some; all of it inside
    `multipart/mixed` with the attachments when there are some.

    `include_bcc` adds a Bcc header, as in the sender's own copy (RFC 5322 3.6.3), for
    the console and file senders; what goes out over SMTP never carries one.
    """
    mime = EmailMessage(policy=POLICY)
    mime["Subject"] = message.subject
    mime["From"] = str(message.addresses("sender")[0])
    fields = [("To", "recipients"), ("Cc", "cc"), ("Reply-To", "reply_to")]
    if include_bcc:
        fields.append(("Bcc", "bcc"))
    for header, field in fields:
        addresses = message.addresses(field)
        if addresses:
            mime[header] = ", ".join(str(address) for address in addresses)
    mime["Date"] = format_datetime(date or datetime.datetime.now(datetime.UTC))
    mime["Message-ID"] = message_id
    for name, value in (message.headers or {}).items():
        mime[name] = value
    _add_content(mime, message)
    for part in mime.walk():
        # The stdlib stamps MIME-Version on every part it creates; it belongs on top only.
        if part is not mime:
            del part["MIME-Version"]
    return mime


def _add_content(mime: EmailMessage, message: Message) -> None:
    mime.set_content(message.body)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
        html_part = mime.get_body(("html",))
        if html_part is None:  # pragma: no cover - add_alternative just added it
            raise AssertionError("the HTML part is missing")
        for attachment in message.attachments:
            if attachment.inline:
                maintype, subtype = attachment.content_type.split("/", 1)
                html_part.add_related(
                    attachment.content,
                    maintype=maintype,
                    subtype=subtype,
                    cid=f"<{attachment.content_id}>",
                    disposition="inline",
                    filename=attachment.filename,
                    params={"name": attachment.filename},
                )
    for attachment in message.attachments:
        if not attachment.inline:
            maintype, subtype = attachment.content_type.split("/", 1)
            mime.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
                params={"name": attachment.filename},
            )
