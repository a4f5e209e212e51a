"""Translating aiosmtplib's and the network's exceptions into `MailDeliveryError`."""

from __future__ import annotations

import ssl

import aiosmtplib

from ._errors import MailDeliveryError


def is_temporary(code: int) -> bool:
    """Whether an SMTP reply code is a transient failure (4xx) rather than permanent (5xx)."""
    return 400 <= code < 500  # noqa: PLR2004 - SMTP reply classes


def delivery_error(
    error: BaseException, *, server: str, recipients: tuple[str, ...]
) -> MailDeliveryError:
    """The `MailDeliveryError` that explains `error`, raised while talking to `server`."""
    text, temporary, code = _explain(error, server)
    return MailDeliveryError(text, temporary=temporary, code=code, recipients=recipients)


def _explain(error: BaseException, server: str) -> tuple[str, bool, int | None]:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = {refusal.recipient: (refusal.code, refusal.message) for refusal in error.recipients}
        listing = "; ".join(
            f"{address}: {code} {reply}" for address, (code, reply) in codes.items()
        )
        temporary = all(is_temporary(code) for code, _ in codes.values())
        return f"the SMTP server at {server} refused every recipient ({listing})", temporary, None
    if isinstance(error, aiosmtplib.SMTPResponseException):
        what = (
            "the user name or password"
            if isinstance(error, aiosmtplib.SMTPAuthenticationError)
            else "the message"
        )
        text = f"the SMTP server at {server} refused {what}: {error.code} {error.message}"
        return text, is_temporary(error.code), error.code
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        text = (
            f"the SMTP server at {server} does not support what the sender is set up for: {error}"
        )
        return text, False, None
    tls_error = _tls_cause(error)
    if tls_error is not None:
        return f"TLS with the SMTP server at {server} failed: {tls_error}", False, None
    if isinstance(error, TimeoutError):
        return f"the SMTP server at {server} did not answer in time: {error}", True, None
    text = f"could not talk to the SMTP server at {server}: {str(error) or type(error).__name__}"
    return text, True, None


def _tls_cause(error: BaseException) -> ssl.SSLError | None:
    # aiosmtplib wraps a failed handshake (an untrusted certificate, say) in
    # SMTPConnectError; the SSL error is its cause.
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
    return None
