"""An outbox in memory, for the unit tests of applications that send mail."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, override

from ._errors import MailDeliveryError, MailError
from ._mime import build_mime, new_message_id
from .types import MailSender

if TYPE_CHECKING:
    from email.message import EmailMessage

    from ._message import Message


@dataclasses.dataclass(frozen=True)
class SentMail:
    """A message kept by `InMemoryMailSender`, with the MIME document an SMTP server would get."""

    message: Message
    message_id: str
    mime: EmailMessage

    @property
    def envelope_recipients(self) -> tuple[str, ...]:
        """Every address the message was delivered to (To, Cc and Bcc)."""
        return self.message.envelope_recipients


class InMemoryMailSender(MailSender):
    """Keeps the messages it is given in `outbox` instead of sending them.

    The messages are built exactly as for SMTP, so a message that SMTP would refuse is
    refused here too. `fail_next` makes the next sends fail, to test how the code under
    test copes with an unreachable server.
    """

    def __init__(self, *, message_id_domain: str | None = None) -> None:
        self.message_id_domain = message_id_domain
        self.outbox: list[SentMail] = []
        self._failures: list[MailError] = []

    @override
    async def send(self, message: Message, /) -> str:
        if self._failures:
            raise self._failures.pop(0)
        message_id = message.message_id or new_message_id(self.message_id_domain)
        mime = build_mime(message, message_id=message_id)
        self.outbox.append(SentMail(message=message, message_id=message_id, mime=mime))
        return message_id

    def fail_next(self, error: MailError | None = None, *, times: int = 1) -> None:
        """Make the next `times` sends raise `error` (default: a temporary `MailDeliveryError`)."""
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        failure = error or MailDeliveryError(
            "InMemoryMailSender.fail_next: simulated delivery failure", temporary=True
        )
        self._failures.extend([failure] * times)

    def sent_to(self, address: str) -> list[SentMail]:
        """The kept messages that went to `address` (To, Cc or Bcc; case-insensitive)."""
        wanted = address.lower()
        return [
            sent for sent in self.outbox if wanted in {a.lower() for a in sent.envelope_recipients}
        ]

    def clear(self) -> None:
        """Empty the outbox and forget pending failures."""
        self.outbox.clear()
        self._failures.clear()
