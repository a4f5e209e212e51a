"""scaffold.mail._message and _attachment: the message value object and its checks."""

import pytest

from scaffold.mail import (
    RESERVED_HEADERS,
    Attachment,
    HeaderInjectionError,
    InvalidAddressError,
    InvalidMessageError,
    Message,
)


def make(**changes):
    fields = {
        "subject": "Hello",
        "recipients": ["ada@example.com"],
        "sender": "app@example.com",
        "body": "Hi",
    }
    fields.update(changes)
    return Message(**fields)


class TestMessage:
    def test_the_tutorial_form_works(self):
        """The 0.9 tutorial's keyword arguments build a message; lists become tuples."""
        message = Message(
            subject="Welcome!", recipients=["ada@example.com"], sender="app@example.com", body="Hi"
        )
        assert message.recipients == ("ada@example.com",)
        assert message.html is None
        assert dict(message.headers or {}) == {}

    def test_a_single_recipient_string_is_one_recipient(self):
        """A string given for a list of addresses is one address, not one per character."""
        assert make(recipients="ada@example.com", cc="bob@example.com").cc == ("bob@example.com",)

    def test_needs_a_recipient(self):
        """A message without any recipient is refused."""
        with pytest.raises(InvalidMessageError, match="at least one recipient"):
            make(recipients=[])

    def test_bcc_alone_is_enough(self):
        """A message may go to Bcc recipients only."""
        assert make(recipients=[], bcc=["hidden@example.com"]).envelope_recipients == (
            "hidden@example.com",
        )

    def test_envelope_recipients_are_everyone_once(self):
        """To, Cc and Bcc all receive the message, each address once whatever its case."""
        message = make(
            recipients=["Ada <ada@example.com>", "bob@example.com"],
            cc=["ADA@example.com", "cy@example.com"],
            bcc=["dee@example.com"],
        )
        assert message.envelope_recipients == (
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dee@example.com",
        )
        assert make(sender="App <app@example.com>").envelope_sender == "app@example.com"

    @pytest.mark.parametrize("field", ["recipients", "cc", "bcc", "reply_to"])
    def test_invalid_addresses_name_their_field_and_position(self, field):
        """A bad address in a list says which list and which item."""
        with pytest.raises(InvalidAddressError, match=rf"{field}\[1\]: 'not-an-address'"):
            make(**{field: ["ok@example.com", "not-an-address"]})

    def test_invalid_sender_is_refused(self):
        """A bad sender is refused naming the sender field."""
        with pytest.raises(InvalidAddressError, match="sender"):
            make(sender="nobody")

    @pytest.mark.parametrize(
        "changes",
        [
            {"subject": "Hi\r\nBcc: victim@example.com"},
            {"subject": "Hi\nthere"},
            {"headers": {"X-Campaign": "a\r\nBcc: victim@example.com"}},
            {"headers": {"X-Bad\r\nBcc": "victim@example.com"}},
            {"recipients": ["ada@example.com\nBcc: victim@example.com"]},
            {"sender": "app@example.com\r\n"},
            {"reply_to": "Ada <ada@example.com>\r\nX-Evil: 1"},
        ],
    )
    def test_line_breaks_in_headers_are_refused(self, changes):
        """CR or LF in the subject, any header name or value, or any address is refused."""
        with pytest.raises(HeaderInjectionError, match="line breaks"):
            make(**changes)

    @pytest.mark.parametrize("name", [*sorted(RESERVED_HEADERS), "SUBJECT", "Message-Id", "fRoM"])
    def test_headers_owned_by_the_sender_cannot_be_overridden(self, name):
        """Extra headers may not set a header the sender writes itself, whatever the case."""
        with pytest.raises(InvalidMessageError, match="cannot be overridden"):
            make(headers={name: "spoofed"})

    def test_extra_headers_are_kept_read_only(self):
        """Allowed extra headers are kept, as a read-only copy of what was given."""
        given = {"List-Unsubscribe": "<mailto:unsubscribe@example.com>", "X-Tag": "a"}
        message = make(headers=given)
        given["X-Tag"] = "changed"
        assert message.headers == {
            "List-Unsubscribe": "<mailto:unsubscribe@example.com>",
            "X-Tag": "a",
        }
        with pytest.raises(TypeError):
            message.headers["X-Tag"] = "b"  # type: ignore[index]

    @pytest.mark.parametrize(
        ("headers", "fragment"),
        [
            ({"X Tag": "a"}, "not a header name"),
            ({"X:Tag": "a"}, "not a header name"),
            ({"": "a"}, "not a header name"),
            ({"X-Tag": "a", "x-tag": "b"}, "given twice"),
            ({"X-Tag": 3}, "expected a string"),
        ],
    )
    def test_malformed_extra_headers_are_refused(self, headers, fragment):
        """Header names must be field names, given once, with string values."""
        with pytest.raises(InvalidMessageError, match=fragment):
            make(headers=headers)

    @pytest.mark.parametrize(
        ("changes", "fragment"),
        [
            ({"body": None}, "body: expected a string"),
            ({"html": b"<p>"}, "html: expected a string"),
            ({"subject": None}, "subject: expected a string"),
            ({"message_id": "not-an-id"}, "is not a Message-ID"),
            ({"attachments": ["file.txt"]}, "expected an Attachment"),
            ({"attachments": b"raw"}, "expected a list of Attachment"),
            ({"recipients": 42}, "expected a list of addresses"),
        ],
    )
    def test_wrong_types_are_refused_with_the_field_name(self, changes, fragment):
        """Values of the wrong type are refused naming the field."""
        with pytest.raises(InvalidMessageError, match=fragment):
            make(**changes)

    def test_is_immutable_and_replace_validates_again(self):
        """Fields cannot be assigned; replace() makes a checked copy."""
        message = make()
        with pytest.raises(AttributeError):
            message.subject = "Changed"  # type: ignore[misc]
        assert message.replace(subject="Changed").subject == "Changed"
        with pytest.raises(HeaderInjectionError):
            message.replace(subject="a\nb")

    def test_inline_attachments_need_html(self):
        """An attachment with a content_id needs an HTML version to refer to it."""
        logo = Attachment("logo.png", b"png", content_id="logo")
        with pytest.raises(InvalidMessageError, match="has a content_id"):
            make(attachments=[logo])
        with pytest.raises(InvalidMessageError, match="used twice"):
            make(html="<img src='cid:logo'>", attachments=[logo, logo])


class TestAttachment:
    def test_guesses_the_content_type_from_the_name(self):
        """The content type follows the file name, octet-stream when unknown."""
        assert Attachment("report.pdf", b"%PDF").content_type == "application/pdf"
        assert Attachment("data.unknownext", b"x").content_type == "application/octet-stream"
        assert Attachment("x.bin", b"x", content_type="Text/Plain").content_type == "text/plain"

    def test_accepts_any_file_name(self):
        """Non-ASCII names, spaces and punctuation are fine."""
        assert Attachment("Rechnung für März (final).pdf", b"x").filename == (
            "Rechnung für März (final).pdf"
        )
        assert Attachment("文件.txt", bytearray(b"x")).content == b"x"

    @pytest.mark.parametrize(
        ("filename", "error", "fragment"),
        [
            ("", InvalidMessageError, "non-empty"),
            ("a\r\nContent-Type: text/html", HeaderInjectionError, "line breaks"),
            ("a\tb.txt", InvalidMessageError, "control characters"),
            ("../etc/passwd", InvalidMessageError, "is a path"),
            ("C:\\temp\\a.txt", InvalidMessageError, "is a path"),
        ],
    )
    def test_refuses_bad_file_names(self, filename, error, fragment):
        """Empty names, line breaks, control characters and paths are refused."""
        with pytest.raises(error, match=fragment):
            Attachment(filename, b"x")

    def test_refuses_text_content_and_bad_types(self):
        """Content must be bytes and the content type type/subtype; content_id has no <>."""
        with pytest.raises(InvalidMessageError, match="encode text first"):
            Attachment("a.txt", "text")  # type: ignore[arg-type]
        with pytest.raises(InvalidMessageError, match="is not a content type"):
            Attachment("a.txt", b"x", content_type="text")
        with pytest.raises(InvalidMessageError, match="content_id"):
            Attachment("a.png", b"x", content_id="<logo>")

    def test_from_path_reads_the_file(self, tmp_path):
        """from_path reads the bytes and takes the file's name unless one is given."""
        path = tmp_path / "notes.txt"
        path.write_bytes(b"hello")
        attachment = Attachment.from_path(path)
        assert (attachment.filename, attachment.content, attachment.content_type) == (
            "notes.txt",
            b"hello",
            "text/plain",
        )
        assert Attachment.from_path(path, filename="other.md").filename == "other.md"
