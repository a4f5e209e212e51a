"""scaffold.mail._addresses: parsing and validating addresses."""

import pytest

from scaffold.mail import Address, HeaderInjectionError, InvalidAddressError, parse_address


class TestParseAddress:
    @pytest.mark.parametrize(
        ("value", "addr_spec", "display_name"),
        [
            ("ada@example.com", "ada@example.com", ""),
            ("  ada@example.com  ", "ada@example.com", ""),
            ("Ada Lovelace <ada@example.com>", "ada@example.com", "Ada Lovelace"),
            ('"Lovelace, Ada" <ada@example.com>', "ada@example.com", "Lovelace, Ada"),
            ('"Ada \\"The Countess\\"" <ada@example.com>', "ada@example.com", 'Ada "The Countess"'),
            ("Zoë <zoe@example.com>", "zoe@example.com", "Zoë"),
            ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk", ""),
            ("o'brien@example.com", "o'brien@example.com", ""),
            ("root@localhost", "root@localhost", ""),
        ],
    )
    def test_accepts_valid_addresses(self, value, addr_spec, display_name):
        """Plain addresses and `Name <address>` forms parse into their two parts."""
        assert parse_address(value) == Address(addr_spec, display_name)

    def test_converts_international_domains_to_idna(self):
        """A non-ASCII domain becomes its ASCII (IDNA) form, which SMTP can carry."""
        assert parse_address("info@bücher.example").addr_spec == "info@xn--bcher-kva.example"

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            ("", "empty"),
            ("ada", "not an e-mail address"),
            ("ada@", "not an e-mail address"),
            ("@example.com", "not an e-mail address"),
            ("ada lovelace@example.com", "part before @"),
            ("ada..lovelace@example.com", "part before @"),
            (".ada@example.com", "part before @"),
            ("ada@exa mple.com", "not a domain name"),
            ("ada@-example.com", "not a domain name"),
            ("ada@example..com", "not a domain name"),
            ("Ada <ada@example.com", "unbalanced angle brackets"),
            ("Ada <b> <ada@example.com>", "put it in quotes"),
            ("a@example.com, b@example.com", "its own list item"),
            ("zoë@example.com", "SMTPUTF8"),
            ("a" * 65 + "@example.com", "at most 64"),
            (
                "a@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 63 + ".com",
                "longer than 254",
            ),
        ],
    )
    def test_refuses_invalid_addresses_with_a_clear_error(self, value, fragment):
        """An invalid address raises InvalidAddressError naming the field, value and problem."""
        with pytest.raises(InvalidAddressError, match="recipients") as caught:
            parse_address(value, field="recipients")
        assert fragment in str(caught.value)

    @pytest.mark.parametrize(
        "value",
        ["ada@example.com\r\nBcc: victim@example.com", "Ada\n <ada@example.com>", "a\x00@b.c"],
    )
    def test_refuses_line_breaks_as_header_injection(self, value):
        """A CR, LF or NUL anywhere in an address is refused as header injection."""
        with pytest.raises(HeaderInjectionError, match="line breaks"):
            parse_address(value)

    def test_refuses_non_strings(self):
        """Something other than a string is refused with its type in the message."""
        with pytest.raises(InvalidAddressError, match="got int"):
            parse_address(42, field="sender")


class TestAddress:
    def test_formats_for_a_header_quoting_where_needed(self):
        """str() gives the header form; a display name with a comma is quoted."""
        assert str(parse_address('"Lovelace, Ada" <ada@example.com>')) == (
            '"Lovelace, Ada" <ada@example.com>'
        )
        assert str(parse_address("ada@example.com")) == "ada@example.com"
