"""The exceptions scaffold-mail raises; every one of them is a `MailError`."""

from __future__ import annotations


class MailError(Exception):
    """Base class of every error raised by scaffold-mail."""


class InvalidMessageError(MailError, ValueError):
    """A message, attachment or header that cannot be sent as given."""


class InvalidAddressError(InvalidMessageError):
    """An e-mail address that is not valid; the message names the field and the value."""


class HeaderInjectionError(InvalidMessageError):
    """A header name or value, address or file name containing a line break (CR or LF)."""


class InvalidPayloadError(MailError, ValueError):
    """A queued message payload that cannot be turned back into a message."""


class TemplateError(MailError):
    """A mail template that is missing or fails to render."""


class MailDeliveryError(MailError):
    """Sending failed; nothing (or, see `recipients`, not everything) was delivered.

    `temporary` is true for failures worth retrying: a 4xx reply, a connection that
    could not be made or dropped, a timeout. A 5xx reply is permanent: retrying the same
    message will be refused again (the queue still retries it, then dead-letters it with
    this error, so it is never dropped silently).
    """

    def __init__(
        self,
        message: str,
        *,
        temporary: bool,
        code: int | None = None,
        recipients: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.code = code
        self.recipients = recipients


class RecipientsRefusedError(MailDeliveryError):
    """The server accepted the message for some recipients and refused the others.

    `refused` maps each refused envelope address to the server's (code, reply);
    `message_id` is the Message-ID delivered to the accepted ones.
    """

    def __init__(
        self, message: str, *, refused: dict[str, tuple[int, str]], message_id: str
    ) -> None:
        temporary = all(400 <= code < 500 for code, _ in refused.values())  # noqa: PLR2004 - SMTP reply classes
        super().__init__(message, temporary=temporary, recipients=tuple(refused))
        self.refused = refused
        self.message_id = message_id


class BatchDeliveryError(MailDeliveryError):
    """Some messages of a batch were not sent; the others were.

    `sent` maps the position of each sent message to its Message-ID, `failed` maps the
    position of each failed one to its error.
    """

    def __init__(self, sent: dict[int, str], failed: dict[int, MailError]) -> None:
        details = "; ".join(f"message {index}: {error}" for index, error in failed.items())
        super().__init__(
            f"{len(failed)} of {len(sent) + len(failed)} messages were not sent: {details}",
            temporary=all(getattr(error, "temporary", False) for error in failed.values()),
        )
        self.sent = sent
        self.failed = failed
