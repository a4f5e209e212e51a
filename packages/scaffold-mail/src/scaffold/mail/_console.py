"""The embedded default sender: prints each message instead of sending it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO, override

from ._mime import build_mime, new_message_id
from .types import MailSender

if TYPE_CHECKING:
    from ._message import Message

_RULE = "-" * 72
_SHOWN_HEADERS = ("Message-ID", "Date", "From", "To", "Cc", "Bcc", "Reply-To", "Subject")


class ConsoleMailSender(MailSender):
    """Prints every message, readable, to a stream (standard output by default).

    It prints the headers (Bcc included: it is the sender's copy), the plain-text body,
    the HTML version when `show_html` is true, and one line per attachment. Nothing is
    sent, so it suits development without a mail server.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        show_html: bool = False,
        message_id_domain: str | None = None,
    ) -> None:
        self.stream = stream
        self.show_html = show_html
        self.message_id_domain = message_id_domain

    @override
    async def send(self, message: Message, /) -> str:
        message_id = message.message_id or new_message_id(self.message_id_domain)
        mime = build_mime(message, message_id=message_id, include_bcc=True)
        lines = [_RULE]
        shown = {name.lower() for name in _SHOWN_HEADERS}
        lines.extend(f"{name}: {mime[name]}" for name in _SHOWN_HEADERS if name in mime)
        lines.extend(
            f"{name}: {value}"
            for name, value in (message.headers or {}).items()
            if name.lower() not in shown
        )
        lines.extend(["", message.body.rstrip("\n")])
        if message.html is not None:
            if self.show_html:
                lines.extend(["", "[HTML version]", message.html.rstrip("\n")])
            else:
                lines.extend(["", f"[HTML version: {len(message.html)} characters]"])
        for attachment in message.attachments:
            kind = f"inline, cid:{attachment.content_id}" if attachment.inline else "attachment"
            lines.append(
                f"[{kind}: {attachment.filename} ({attachment.content_type}, "
                f"{len(attachment.content)} bytes)]"
            )
        lines.append(_RULE)
        stream = self.stream or sys.stdout
        stream.write("\n".join(lines) + "\n")
        stream.flush()
        return message_id
