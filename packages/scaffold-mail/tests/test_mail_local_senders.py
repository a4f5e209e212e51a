"""scaffold.mail._console, _memory and _file: the senders that do not talk to a server."""

import io
from email import message_from_bytes, policy

import pytest

from scaffold.mail import (
    Attachment,
    ConsoleMailSender,
    FileMailSender,
    InMemoryMailSender,
    InvalidMessageError,
    MailDeliveryError,
    MailSender,
    Message,
)


def make(**changes):
    fields = {
        "subject": "Grüße",
        "recipients": ["Ada <ada@example.com>"],
        "sender": "app@example.com",
        "body": "Hello Ada\n",
    }
    fields.update(changes)
    return Message(**fields)


class TestConsoleMailSender:
    async def test_prints_headers_body_and_attachments(self):
        """The console shows who, what and which files, readable, Bcc included."""
        stream = io.StringIO()
        sender = ConsoleMailSender(stream, message_id_domain="dev.example.com")
        message_id = await sender.send(
            make(
                bcc=["hidden@example.com"],
                html="<p>Hello</p>",
                headers={"X-Campaign": "spring"},
                attachments=[Attachment("bericht.pdf", b"12345")],
            )
        )
        output = stream.getvalue()
        assert f"Message-ID: {message_id}" in output
        assert "From: app@example.com" in output
        assert "To: Ada <ada@example.com>" in output
        assert "Bcc: hidden@example.com" in output
        assert "Subject: Grüße" in output
        assert "X-Campaign: spring" in output
        assert "\nHello Ada\n" in output
        assert "[HTML version: 12 characters]" in output
        assert "[attachment: bericht.pdf (application/pdf, 5 bytes)]" in output
        assert message_id.endswith("@dev.example.com>")

    async def test_can_show_the_html(self):
        """With show_html the HTML version is printed too."""
        stream = io.StringIO()
        await ConsoleMailSender(stream, show_html=True).send(make(html="<p>Hello</p>"))
        assert "[HTML version]\n<p>Hello</p>" in stream.getvalue()

    async def test_prints_to_standard_output_by_default(self, capsys):
        """Without a stream it prints to standard output."""
        await ConsoleMailSender().send(make())
        assert "Subject: Grüße" in capsys.readouterr().out


class TestInMemoryMailSender:
    async def test_keeps_messages_with_their_mime_document(self):
        """The outbox holds the message, its Message-ID and the MIME document SMTP would get."""
        sender = InMemoryMailSender()
        message = make(bcc=["hidden@example.com"], html="<p>Hi</p>")
        message_id = await sender.send(message)
        [sent] = sender.outbox
        assert sent.message is message
        assert sent.message_id == message_id
        assert sent.mime["Message-ID"] == message_id
        assert sent.mime["Bcc"] is None
        assert sent.mime.get_content_type() == "multipart/alternative"
        assert sent.envelope_recipients == ("ada@example.com", "hidden@example.com")

    async def test_finds_messages_by_recipient_and_clears(self):
        """sent_to finds messages by any recipient, case-insensitively; clear empties it."""
        sender = InMemoryMailSender()
        await sender.send(make())
        await sender.send(make(recipients=["bob@example.com"], bcc=["ADA@example.com"]))
        await sender.send(make(recipients=["cy@example.com"]))
        assert len(sender.sent_to("ada@EXAMPLE.com")) == 2
        sender.clear()
        assert sender.outbox == []

    async def test_can_be_told_to_fail(self):
        """fail_next makes the next sends raise, then sending works again."""
        sender = InMemoryMailSender()
        sender.fail_next(times=2)
        for _ in range(2):
            with pytest.raises(MailDeliveryError, match="simulated") as caught:
                await sender.send(make())
            assert caught.value.temporary
        await sender.send(make())
        assert len(sender.outbox) == 1
        custom = MailDeliveryError("boom", temporary=False)
        sender.fail_next(custom)
        with pytest.raises(MailDeliveryError, match="boom"):
            await sender.send(make())
        with pytest.raises(ValueError, match="at least 1"):
            sender.fail_next(times=0)

    async def test_send_many_keeps_every_message(self):
        """The default send_many sends each message and returns their ids in order."""
        sender = InMemoryMailSender()
        ids = await sender.send_many([make(subject=str(n)) for n in range(3)])
        assert ids == [sent.message_id for sent in sender.outbox]
        assert [sent.message.subject for sent in sender.outbox] == ["0", "1", "2"]

    async def test_refuses_what_smtp_would_refuse(self):
        """Validation is the message's own, so the fake refuses bad input like the real one."""
        with pytest.raises(InvalidMessageError):
            await InMemoryMailSender().send(make(headers={"To": "evil@example.com"}))

    def test_is_a_mail_sender(self):
        """Every sender implements the MailSender interface."""
        assert isinstance(InMemoryMailSender(), MailSender)
        assert isinstance(ConsoleMailSender(), MailSender)


class TestFileMailSender:
    async def test_writes_an_eml_file_a_mail_client_can_open(self, tmp_path):
        """Each message becomes one complete .eml file with Bcc (the sender's copy)."""
        folder = tmp_path / "outbox"
        sender = FileMailSender(folder)
        message = make(
            bcc=["hidden@example.com"],
            attachments=[Attachment("naïve.txt", b"x")],
        )
        message_id = await sender.send(message)
        [path] = folder.iterdir()
        assert path == sender.last_path
        assert path.suffix == ".eml"
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert parsed["Message-ID"] == message_id
        assert parsed["Bcc"] == "hidden@example.com"
        assert parsed["Subject"] == "Grüße"
        [attachment] = parsed.iter_attachments()
        assert attachment.get_filename() == "naïve.txt"

    async def test_one_file_per_message_and_no_leftovers(self, tmp_path):
        """Several messages give several files and no temporary files remain."""
        sender = FileMailSender(tmp_path)
        for n in range(5):
            await sender.send(make(subject=str(n)))
        names = sorted(path.name for path in tmp_path.iterdir())
        assert len(names) == 5
        assert all(name.endswith(".eml") for name in names)

    async def test_unwritable_folder_is_a_delivery_error(self, tmp_path):
        """A folder that cannot be written raises MailDeliveryError naming the path."""
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")
        with pytest.raises(MailDeliveryError, match="could not write"):
            await FileMailSender(blocker / "outbox").send(make())
