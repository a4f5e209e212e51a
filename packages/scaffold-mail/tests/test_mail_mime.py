"""scaffold.mail._mime: the MIME document built from a message, parsed back part by part."""

import datetime
from email import message_from_bytes, policy

import pytest

from scaffold.mail import Attachment, Message, build_mime, new_message_id

MESSAGE_ID = "<fixed.1@example.com>"


def make(**changes):
    fields = {
        "subject": "Hello",
        "recipients": ["ada@example.com"],
        "sender": "app@example.com",
        "body": "Hi Ada",
    }
    fields.update(changes)
    return Message(**fields)


def text_of(part):
    """The decoded text of a part, with the wire's CRLF line ends as Python's LF."""
    return part.get_content().replace("\r\n", "\n")


def round_trip(message, **options):
    """Serialise as it goes over SMTP and parse it back."""
    data = build_mime(message, message_id=MESSAGE_ID, **options).as_bytes()
    return data, message_from_bytes(data, policy=policy.default)


class TestStructure:
    def test_text_only_is_a_single_text_part(self):
        """Without HTML or files the message is one text/plain part in UTF-8."""
        _, parsed = round_trip(make())
        assert parsed.get_content_type() == "text/plain"
        assert parsed.get_content_charset() == "utf-8"
        assert text_of(parsed) == "Hi Ada\n"

    def test_html_makes_an_alternative(self):
        """With HTML: multipart/alternative, text first, HTML last (the preferred one)."""
        _, parsed = round_trip(make(html="<p>Hi <b>Ada</b></p>"))
        assert parsed.get_content_type() == "multipart/alternative"
        parts = list(parsed.iter_parts())
        assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
        assert text_of(parts[1]) == "<p>Hi <b>Ada</b></p>\n"

    def test_attachments_make_a_mixed_message(self):
        """Attachments wrap the body in multipart/mixed, each file with its name and bytes."""
        pdf = bytes(range(256))
        _, parsed = round_trip(
            make(
                html="<p>Hi</p>",
                attachments=[Attachment("report.pdf", pdf), Attachment("notes.txt", b"plain")],
            )
        )
        assert parsed.get_content_type() == "multipart/mixed"
        body, report, notes = parsed.iter_parts()
        assert body.get_content_type() == "multipart/alternative"
        assert report.get_content_type() == "application/pdf"
        assert report.get_content_disposition() == "attachment"
        assert report.get_filename() == "report.pdf"
        assert report["Content-Transfer-Encoding"] == "base64"
        assert report.get_content() == pdf
        assert notes.get_filename() == "notes.txt"
        assert notes.get_payload(decode=True) == b"plain"

    def test_inline_files_sit_with_the_html_in_a_related_part(self):
        """Inline files go in multipart/related next to the HTML, with their Content-ID."""
        logo = Attachment("logo.png", b"\x89PNG\r\n", content_id="logo@app")
        _, parsed = round_trip(make(html='<img src="cid:logo@app">', attachments=[logo]))
        text, related = parsed.iter_parts()
        assert text.get_content_type() == "text/plain"
        assert related.get_content_type() == "multipart/related"
        html, image = related.iter_parts()
        assert html.get_content_type() == "text/html"
        assert image.get_content_type() == "image/png"
        assert image["Content-ID"] == "<logo@app>"
        assert image.get_content_disposition() == "inline"
        assert image.get_content() == b"\x89PNG\r\n"

    def test_everything_at_once(self):
        """Text, HTML, an inline image and an attachment nest as mixed(alternative(related))."""
        message = make(
            html='<img src="cid:logo">',
            attachments=[
                Attachment("a.csv", b"a,b\n1,2\n"),
                Attachment("logo.gif", b"GIF89a", content_id="logo"),
            ],
        )
        _, parsed = round_trip(message)
        layout = [part.get_content_type() for part in parsed.walk()]
        assert layout == [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/gif",
            "text/csv",
        ]

    def test_only_the_top_carries_mime_version(self):
        """MIME-Version appears once, on the message itself."""
        data, _ = round_trip(make(html="<p/>", attachments=[Attachment("a.txt", b"x")]))
        assert data.count(b"MIME-Version:") == 1


class TestHeaders:
    def test_standard_headers(self):
        """From, To, Cc, Reply-To, Subject, Date and Message-ID come from the fields."""
        when = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
        message = make(
            recipients=["Ada <ada@example.com>", "bob@example.com"],
            cc=["cy@example.com"],
            reply_to=["help@example.com", "desk@example.com"],
            headers={"X-Campaign": "spring", "In-Reply-To": "<parent@example.com>"},
        )
        data = build_mime(message, message_id=MESSAGE_ID, date=when).as_bytes()
        parsed = message_from_bytes(data, policy=policy.default)
        assert parsed["From"] == "app@example.com"
        assert parsed["To"] == "Ada <ada@example.com>, bob@example.com"
        assert parsed["Cc"] == "cy@example.com"
        assert parsed["Reply-To"] == "help@example.com, desk@example.com"
        assert parsed["Subject"] == "Hello"
        assert parsed["Date"] == "Thu, 02 Jan 2025 03:04:05 +0000"
        assert parsed["Message-ID"] == MESSAGE_ID
        assert parsed["X-Campaign"] == "spring"
        assert parsed["In-Reply-To"] == "<parent@example.com>"

    def test_bcc_is_only_in_the_senders_copy(self):
        """Bcc never appears in what is sent, only when include_bcc asks for it."""
        message = make(bcc=["hidden@example.com"])
        data, parsed = round_trip(message)
        assert parsed["Bcc"] is None
        assert b"hidden@example.com" not in data
        _, copy = round_trip(message, include_bcc=True)
        assert copy["Bcc"] == "hidden@example.com"

    def test_no_to_header_without_to_recipients(self):
        """A message to Bcc recipients only has no To header at all."""
        _, parsed = round_trip(make(recipients=[], bcc=["hidden@example.com"]))
        assert parsed["To"] is None

    def test_extra_headers_cannot_forge_what_parses_back(self):
        """The parsed message has exactly one From, To and Subject."""
        _, parsed = round_trip(make(headers={"X-Note": "From: evil@example.com"}))
        for name in ("From", "To", "Subject", "Message-ID"):
            assert len(parsed.get_all(name)) == 1


class TestEncodings:
    def test_the_message_is_seven_bit_clean(self):
        """Every byte is ASCII and every line at most 998 octets, for any server."""
        message = make(
            subject="Grüße — 你好",
            sender="Zoë Ünal <zoe@example.com>",
            body="Grüße\n" + "ä" * 3000,
            html="<p>" + "€" * 3000 + "</p>",
            headers={"X-Note": "naïve"},
            attachments=[Attachment("naïve résumé.pdf", b"\xff" * 5000)],
        )
        data, _ = round_trip(message)
        assert data.isascii()
        assert max(len(line) for line in data.split(b"\r\n")) <= 998

    def test_non_ascii_text_decodes_back(self):
        """Non-ASCII subject, names, headers, text and HTML come back unchanged."""
        body = "Grüße, 你好, привет\n" + "long line " * 50 + "\n"
        message = make(
            subject="Grüße — 你好 " * 10,
            sender='"Zoë, Ünal" <zoe@example.com>',
            recipients=["Jürgen <j@example.com>"],
            body=body,
            html="<p>Привет</p>",
            headers={"X-Note": "naïve"},
        )
        data, parsed = round_trip(message)
        assert parsed["Subject"] == "Grüße — 你好 " * 10
        assert parsed["From"].addresses[0].display_name == "Zoë, Ünal"
        assert parsed["To"].addresses[0].display_name == "Jürgen"
        assert parsed["X-Note"] == "naïve"
        text, html = parsed.iter_parts()
        assert text["Content-Transfer-Encoding"] in {"quoted-printable", "base64"}
        assert text_of(text) == body
        assert text_of(html) == "<p>Привет</p>\n"
        assert b"=?utf-8?" in data  # RFC 2047 encoded words in the headers

    @pytest.mark.parametrize(
        "filename",
        ["résumé.pdf", "Отчёт за март.xlsx", "报告.docx", "a b;c=d\"e'.txt", "x" * 120 + ".txt"],
    )
    def test_attachment_names_round_trip(self, filename):
        """Any file name, non-ASCII, quoted or long, comes back exactly (RFC 2231)."""
        _, parsed = round_trip(make(attachments=[Attachment(filename, b"data")]))
        _, attachment = parsed.iter_parts()
        assert attachment.get_filename() == filename
        assert attachment.get_param("name") == filename
        assert attachment.get_payload(decode=True) == b"data"

    def test_international_domains_are_sent_as_idna(self):
        """Addresses with a non-ASCII domain go out in their IDNA form."""
        _, parsed = round_trip(make(recipients=["info@bücher.example"]))
        assert parsed["To"] == "info@xn--bcher-kva.example"


class TestMessageIds:
    def test_new_ids_are_unique_and_use_the_domain(self):
        """new_message_id makes a different <...@domain> every time."""
        ids = {new_message_id("mail.example.com") for _ in range(1000)}
        assert len(ids) == 1000
        assert all(i.startswith("<") and i.endswith("@mail.example.com>") for i in ids)
