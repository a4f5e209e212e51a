"""Which headers a message may carry, and the checks that keep them from being forged."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._errors import HeaderInjectionError, InvalidMessageError

if TYPE_CHECKING:
    from collections.abc import Mapping

# Headers the senders write themselves from the message's fields or the MIME structure.
# Letting extra headers set them would allow a second From or To, or break the structure.
RESERVED_HEADERS = frozenset(
    {
        "bcc",
        "cc",
        "content-disposition",
        "content-id",
        "content-transfer-encoding",
        "content-type",
        "date",
        "from",
        "message-id",
        "mime-version",
        "reply-to",
        "return-path",
        "sender",
        "subject",
        "to",
    }
)

# RFC 5322 field names: printable ASCII except the colon.
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_LINE_BREAKS = ("\r", "\n", "\x00")


def check_header_value(field: str, value: object) -> str:
    """Return `value` if it is a string without line breaks, else raise naming `field`."""
    if not isinstance(value, str):
        raise InvalidMessageError(f"{field}: expected a string, got {type(value).__name__}")
    if any(character in value for character in _LINE_BREAKS):
        raise HeaderInjectionError(f"{field}: line breaks are not allowed: {value!r}")
    return value


def check_extra_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Validate the extra headers of a message and return them as a new dict.

    Refuses names that are not RFC 5322 field names, names the senders own (compared
    case-insensitively), the same name twice, and values with line breaks.
    """
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for key, value in headers.items():
        name: object = key  # typed as str, but callers without type checking pass anything
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            if isinstance(name, str) and any(c in name for c in _LINE_BREAKS):
                raise HeaderInjectionError(f"headers: line breaks in a header name: {name!r}")
            raise InvalidMessageError(
                f"headers: {name!r} is not a header name (printable ASCII without spaces or colons)"
            )
        lowered = name.lower()
        if lowered in RESERVED_HEADERS:
            raise InvalidMessageError(
                f"headers: {name!r} is set by the mail sender from the message's own fields "
                "and cannot be overridden"
            )
        if lowered in seen:
            raise InvalidMessageError(f"headers: {name!r} is given twice (names ignore case)")
        seen.add(lowered)
        checked[name] = check_header_value(f"headers[{name!r}]", value)
    return checked
