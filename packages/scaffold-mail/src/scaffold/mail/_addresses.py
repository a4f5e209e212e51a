"""Parsing and validating e-mail addresses, with an error that names the field and value."""

from __future__ import annotations

import dataclasses
import re
from email.headerregistry import Address as HeaderAddress

from ._errors import HeaderInjectionError, InvalidAddressError

# RFC 5322 atext: the characters a dot-atom local part may contain.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_LINE_BREAKS = ("\r", "\n", "\x00")
# RFC 5321 limits: 64 octets for the local part, 254 for the whole path.
_MAX_LOCAL_PART = 64
_MAX_ADDRESS = 254


@dataclasses.dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: an optional display name and the address itself (`addr_spec`).

    The domain of `addr_spec` is always ASCII: internationalised domain names are
    converted to their IDNA form (`bücher.example` becomes `xn--bcher-kva.example`).
    """

    addr_spec: str
    display_name: str = ""

    def __str__(self) -> str:
        """The address as a header shows it, the display name quoted when it needs to be."""
        username, _, domain = self.addr_spec.rpartition("@")
        return str(HeaderAddress(self.display_name, username, domain))


def parse_address(value: object, *, field: str = "address") -> Address:
    """Parse `value` (`user@example.com` or `Name <user@example.com>`) into an `Address`.

    Raises `InvalidAddressError` (or `HeaderInjectionError` for a line break) naming
    `field` and the offending value.
    """
    if not isinstance(value, str):
        raise InvalidAddressError(
            f"{field}: expected an e-mail address as a string, got {type(value).__name__} {value!r}"
        )
    if any(character in value for character in _LINE_BREAKS):
        raise HeaderInjectionError(f"{field}: line breaks are not allowed in an address: {value!r}")
    text = value.strip()
    if not text:
        raise InvalidAddressError(f"{field}: the address is empty")
    display_name, addr_spec = _split_display_name(text, field=field, value=value)
    return Address(_validate_addr_spec(addr_spec, field=field, value=value), display_name)


def _split_display_name(text: str, *, field: str, value: str) -> tuple[str, str]:
    if not text.endswith(">"):
        if "<" in text:
            raise InvalidAddressError(f"{field}: unbalanced angle brackets in {value!r}")
        return "", text
    start = text.rfind("<")
    if start < 0:
        raise InvalidAddressError(f"{field}: unbalanced angle brackets in {value!r}")
    name = text[:start].strip()
    addr_spec = text[start + 1 : -1].strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':  # noqa: PLR2004 - the two quotes
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    elif any(character in name for character in '<>"'):
        raise InvalidAddressError(
            f'{field}: the display name of {value!r} contains <, > or "; put it in quotes'
        )
    return name, addr_spec


def _validate_addr_spec(addr_spec: str, *, field: str, value: str) -> str:
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or not domain:
        hint = " (give each address as its own list item)" if "," in value else ""
        raise InvalidAddressError(
            f"{field}: {value!r} is not an e-mail address (expected user@domain){hint}"
        )
    if not local.isascii():
        raise InvalidAddressError(
            f"{field}: the part before @ in {value!r} is not ASCII; such addresses need "
            "SMTPUTF8, which scaffold-mail does not send"
        )
    if len(local) > _MAX_LOCAL_PART or not _LOCAL_PART.fullmatch(local):
        hint = " (give each address as its own list item)" if "," in value else ""
        raise InvalidAddressError(
            f"{field}: {value!r} is not a valid e-mail address: the part before @, "
            f"{local!r}, may hold letters, digits and !#$%&'*+/=?^_`{{|}}~- separated by "
            f"single dots, at most {_MAX_LOCAL_PART} characters{hint}"
        )
    ascii_domain = _ascii_domain(domain, field=field, value=value)
    result = f"{local}@{ascii_domain}"
    if len(result) > _MAX_ADDRESS:
        raise InvalidAddressError(f"{field}: {value!r} is longer than {_MAX_ADDRESS} characters")
    return result


def _ascii_domain(domain: str, *, field: str, value: str) -> str:
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_domain = ""
    labels = ascii_domain.split(".")
    if not ascii_domain or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddressError(
            f"{field}: {value!r} is not a valid e-mail address: {domain!r} is not a "
            "domain name (labels of letters, digits and inner hyphens, separated by dots)"
        )
    return ascii_domain
