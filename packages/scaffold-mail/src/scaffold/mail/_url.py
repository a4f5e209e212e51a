"""Choosing the sender from one setting, a URL such as `MAIL_URL=smtps://user:pw@host`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from ._console import ConsoleMailSender
from ._file import FileMailSender
from ._memory import InMemoryMailSender
from ._smtp import SmtpMailSender

if TYPE_CHECKING:
    from ._smtp import SmtpSecurity
    from .types import MailSender

_SMTP_SCHEMES: dict[str, SmtpSecurity] = {
    "smtp": "auto",
    "smtp+starttls": "starttls",
    "smtps": "tls",
}
_SCHEMES = (*_SMTP_SCHEMES, "console", "memory", "file")
_SMTP_OPTIONS = frozenset({"timeout", "security", "message_id_domain", "local_hostname"})


def mail_sender_from_url(url: str) -> MailSender:
    """The sender a URL names.

    - `smtp://[user:password@]host[:port]`: SMTP, STARTTLS when offered (port 25 default);
      add `?security=none` to never encrypt, for a trusted local relay;
    - `smtp+starttls://...` requires STARTTLS (port 587); `smtps://...` is implicit TLS
      (port 465); options `timeout`, `message_id_domain` and `local_hostname` go in the
      query string;
    - `console://`: print messages; `memory://`: keep them in memory;
    - `file:///path/to/folder`: write `.eml` files there.

    User names and passwords are percent-decoded (`%40` for `@`).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return ConsoleMailSender()
    if scheme == "memory":
        return InMemoryMailSender()
    if scheme == "file":
        if not parts.path:
            raise ValueError(f"mail URL {url!r}: give the folder, as file:///path/to/folder")
        return FileMailSender(Path(unquote(parts.path)))
    if scheme not in _SMTP_SCHEMES:
        raise ValueError(
            f"mail URL {_redacted(url)!r}: unknown scheme {parts.scheme!r}; use one of "
            f"{', '.join(_SCHEMES)}"
        )
    return _smtp_sender(url, _SMTP_SCHEMES[scheme])


def _smtp_sender(url: str, security: SmtpSecurity) -> SmtpMailSender:
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"mail URL {_redacted(url)!r}: the SMTP host is missing")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(options.keys() - _SMTP_OPTIONS)
    if unknown:
        raise ValueError(
            f"mail URL {_redacted(url)!r}: unknown options {unknown}; known: "
            f"{sorted(_SMTP_OPTIONS)}"
        )
    if "security" in options:
        if parts.scheme.lower() != "smtp":
            raise ValueError(f"mail URL {_redacted(url)!r}: security= goes with smtp:// only")
        security = cast("SmtpSecurity", options["security"])
    try:
        port = parts.port
        timeout = float(options.get("timeout", "30"))
    except ValueError as error:
        raise ValueError(f"mail URL {_redacted(url)!r}: {error}") from error
    return SmtpMailSender(
        parts.hostname,
        port,
        unquote(parts.username) if parts.username is not None else None,
        unquote(parts.password) if parts.password is not None else None,
        options.get("message_id_domain"),
        security=security,
        timeout=timeout,
        local_hostname=options.get("local_hostname"),
    )


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
