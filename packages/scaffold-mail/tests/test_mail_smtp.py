"""scaffold.mail._smtp: sending to a real SMTP server (aiosmtpd), parsed back on arrival."""

import asyncio

import pytest

from scaffold.mail import (
    Attachment,
    BatchDeliveryError,
    MailDeliveryError,
    Message,
    RecipientsRefusedError,
    SmtpMailSender,
)


def make(**changes):
    fields = {
        "subject": "Welcome, Zoë",
        "recipients": ["Ada <ada@example.com>"],
        "sender": "App <app@example.com>",
        "body": "Hello Zoë\n",
    }
    fields.update(changes)
    return Message(**fields)


def plain_sender(server, **options):
    return SmtpMailSender(server.host, server.port, security="none", timeout=5, **options)


class TestDelivery:
    async def test_plain_delivery_arrives_intact(self, smtp_server):
        """Every header, part, attachment and the envelope arrive as given."""
        server = await smtp_server()
        message = make(
            cc=["cy@example.com"],
            bcc=["hidden@example.com"],
            reply_to="help@example.com",
            html="<p>Hello <b>Zoë</b></p>",
            headers={"X-Campaign": "welcome"},
            attachments=[Attachment("Prüfbericht.pdf", b"%PDF-1.7\n\x00\xff")],
        )
        message_id = await plain_sender(server, message_id_domain="app.example.com").send(message)

        [received] = server.received
        assert received.mail_from == "app@example.com"
        assert received.rcpt_tos == ["ada@example.com", "cy@example.com", "hidden@example.com"]
        assert not received.tls
        parsed = received.message
        assert parsed["Message-ID"] == message_id
        assert message_id.endswith("@app.example.com>")
        assert parsed["From"] == "App <app@example.com>"
        assert parsed["To"] == "Ada <ada@example.com>"
        assert parsed["Cc"] == "cy@example.com"
        assert parsed["Reply-To"] == "help@example.com"
        assert parsed["Subject"] == "Welcome, Zoë"
        assert parsed["X-Campaign"] == "welcome"
        assert parsed["Bcc"] is None
        assert b"hidden@example.com" not in received.data
        assert [part.get_content_type() for part in parsed.walk()] == [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "application/pdf",
        ]
        text = parsed.get_body(("plain",))
        html = parsed.get_body(("html",))
        assert text.get_content().replace("\r\n", "\n") == "Hello Zoë\n"
        assert html.get_content().replace("\r\n", "\n") == "<p>Hello <b>Zoë</b></p>\n"
        [attachment] = parsed.iter_attachments()
        assert attachment.get_filename() == "Prüfbericht.pdf"
        assert attachment.get_content() == b"%PDF-1.7\n\x00\xff"

    async def test_a_given_message_id_is_kept(self, smtp_server):
        """A message with its own Message-ID is sent with it."""
        server = await smtp_server()
        message_id = await plain_sender(server).send(make(message_id="<own.1@example.com>"))
        assert message_id == "<own.1@example.com>"
        assert server.received[0].message["Message-ID"] == "<own.1@example.com>"

    async def test_starttls_with_authentication(self, smtp_server, client_tls):
        """STARTTLS upgrades the connection before AUTH; the server sees TLS and the user."""
        server = await smtp_server(tls="starttls", auth=True)
        sender = SmtpMailSender(
            server.host,
            server.port,
            server.username,
            server.password,
            security="starttls",
            tls_context=client_tls,
            timeout=5,
        )
        await sender.send(make())
        [received] = server.received
        assert received.tls
        assert received.login == server.username

    async def test_auto_upgrades_when_the_server_offers_starttls(self, smtp_server, client_tls):
        """The default security upgrades to TLS when the server offers STARTTLS."""
        server = await smtp_server(tls="starttls", auth=True)
        sender = SmtpMailSender(
            server.host, server.port, server.username, server.password, tls_context=client_tls
        )
        assert sender.security == "auto"
        await sender.send(make())
        assert server.received[0].tls

    async def test_implicit_tls_with_authentication(self, smtp_server, client_tls):
        """With security="tls" the connection is encrypted from the first byte."""
        server = await smtp_server(tls="implicit", auth=True)
        sender = SmtpMailSender(
            server.host,
            server.port,
            server.username,
            server.password,
            security="tls",
            tls_context=client_tls,
            timeout=5,
        )
        await sender.send(make())
        [received] = server.received
        assert received.tls
        assert received.login == server.username

    async def test_one_connection_for_a_batch(self, smtp_server):
        """send_many sends every message over a single connection, in order."""
        server = await smtp_server()
        messages = [make(subject=f"Message {n}") for n in range(5)]
        ids = await plain_sender(server).send_many(messages)
        assert server.handler.sessions == 1
        assert len(set(ids)) == 5
        assert [r.message["Subject"] for r in server.received] == [f"Message {n}" for n in range(5)]
        assert [r.message["Message-ID"] for r in server.received] == ids

    async def test_connect_shares_one_connection(self, smtp_server):
        """Messages sent inside `async with sender.connect()` share its connection."""
        server = await smtp_server()
        async with plain_sender(server).connect() as connection:
            await connection.send(make(subject="one"))
            await connection.send(make(subject="two"))
        assert server.handler.sessions == 1
        assert len(server.received) == 2

    async def test_a_dropped_connection_is_reopened(self, smtp_server):
        """When the server drops a shared connection, the next message goes over a new one."""
        server = await smtp_server()
        async with plain_sender(server).connect() as connection:
            await connection.send(make(subject="one"))
            server.drop_connections()
            await asyncio.sleep(0.05)
            await connection.send(make(subject="two"))
        assert [r.message["Subject"] for r in server.received] == ["one", "two"]
        assert server.handler.sessions == 2

    async def test_separate_sends_use_separate_connections(self, smtp_server):
        """Each send() opens and closes its own connection."""
        server = await smtp_server()
        sender = plain_sender(server)
        await sender.send(make())
        await sender.send(make())
        assert server.handler.sessions == 2


class TestSecurity:
    async def test_no_password_over_an_unencrypted_connection(self, smtp_server):
        """Without STARTTLS on offer, the password is not sent unless security is "none"."""
        server = await smtp_server(tls="none", auth=True)
        sender = SmtpMailSender(server.host, server.port, server.username, server.password)
        with pytest.raises(MailDeliveryError, match="offers no STARTTLS") as caught:
            await sender.send(make())
        assert not caught.value.temporary
        assert server.handler.login_attempts == 0
        assert server.received == []

        allowed = SmtpMailSender(
            server.host, server.port, server.username, server.password, security="none"
        )
        await allowed.send(make())
        assert server.received[0].login == server.username

    async def test_wrong_password_is_a_permanent_error(self, smtp_server, client_tls):
        """A refused login raises a permanent error that names the cause and code."""
        server = await smtp_server(tls="starttls", auth=True)
        sender = SmtpMailSender(
            server.host, server.port, server.username, "wrong", tls_context=client_tls
        )
        with pytest.raises(MailDeliveryError, match="refused the user name or password") as caught:
            await sender.send(make())
        assert caught.value.code == 535
        assert not caught.value.temporary
        assert server.received == []

    async def test_untrusted_certificate_is_refused(self, smtp_server):
        """A server whose certificate is not trusted gets nothing (TLS error, permanent)."""
        server = await smtp_server(tls="implicit")
        sender = SmtpMailSender(server.host, server.port, security="tls", timeout=5)
        with pytest.raises(MailDeliveryError, match="TLS with the SMTP server") as caught:
            await sender.send(make())
        assert not caught.value.temporary
        assert server.received == []

    async def test_required_starttls_that_is_not_offered_fails(self, smtp_server):
        """security="starttls" fails rather than send in the clear when the server lacks it."""
        server = await smtp_server(tls="none")
        sender = SmtpMailSender(server.host, server.port, security="starttls", timeout=5)
        with pytest.raises(MailDeliveryError, match="does not offer STARTTLS") as caught:
            await sender.send(make())
        assert not caught.value.temporary
        assert server.received == []


class TestFailures:
    @pytest.mark.parametrize(
        ("reply", "code", "temporary"),
        [("451 4.3.0 Try again later", 451, True), ("554 5.7.1 Rejected as spam", 554, False)],
    )
    async def test_refused_data_raises_with_code_and_kind(
        self, smtp_server, reply, code, temporary
    ):
        """A 4xx reply is a temporary failure and a 5xx a permanent one; both raise."""
        server = await smtp_server()
        server.handler.data_reply = reply
        with pytest.raises(MailDeliveryError, match=str(code)) as caught:
            await plain_sender(server).send(make())
        assert caught.value.code == code
        assert caught.value.temporary is temporary
        assert caught.value.recipients == ("ada@example.com",)

    async def test_every_recipient_refused(self, smtp_server):
        """When the server refuses every recipient, the error lists them with the replies."""
        server = await smtp_server()
        server.handler.rcpt_replies["ada@example.com"] = "550 5.1.1 No such user"
        with pytest.raises(MailDeliveryError, match="refused every recipient") as caught:
            await plain_sender(server).send(make())
        assert "ada@example.com: 550" in str(caught.value)
        assert not caught.value.temporary

    async def test_some_recipients_refused(self, smtp_server):
        """Partial refusal delivers to the others and raises, naming the refused addresses."""
        server = await smtp_server()
        server.handler.rcpt_replies["gone@example.com"] = "550 5.1.1 No such user"
        message = make(cc=["gone@example.com", "cy@example.com"])
        with pytest.raises(RecipientsRefusedError) as caught:
            await plain_sender(server).send(message)
        error = caught.value
        assert error.refused == {"gone@example.com": (550, "5.1.1 No such user")}
        assert not error.temporary
        [received] = server.received
        assert received.rcpt_tos == ["ada@example.com", "cy@example.com"]
        assert received.message["Message-ID"] == error.message_id

    async def test_server_gone(self, smtp_server):
        """A server that is not listening gives a temporary error naming host and port."""
        server = await smtp_server()
        await server.stop()
        with pytest.raises(MailDeliveryError, match=f"127.0.0.1:{server.port}") as caught:
            await plain_sender(server).send(make())
        assert caught.value.temporary

    async def test_silent_server_times_out(self):
        """A server that never answers makes the send fail after the timeout."""
        connections = []

        async def accept_and_say_nothing(reader, writer):
            connections.append(writer)

        silent = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
        port = silent.sockets[0].getsockname()[1]
        try:
            sender = SmtpMailSender("127.0.0.1", port, security="none", timeout=0.3)
            with pytest.raises(MailDeliveryError, match="did not answer in time") as caught:
                await sender.send(make())
            assert caught.value.temporary
        finally:
            for writer in connections:
                writer.close()
            silent.close()
            await silent.wait_closed()

    async def test_a_batch_stops_connecting_to_an_unreachable_server(self):
        """When the batch's connection cannot be opened, the rest fail without new attempts."""
        connections = []

        async def accept_and_say_nothing(reader, writer):
            connections.append(writer)

        silent = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
        port = silent.sockets[0].getsockname()[1]
        try:
            sender = SmtpMailSender("127.0.0.1", port, security="none", timeout=0.3)
            with pytest.raises(BatchDeliveryError, match="3 of 3") as caught:
                await sender.send_many([make(subject=str(n)) for n in range(3)])
            assert len(connections) == 1
            assert "did not answer in time" in str(caught.value.failed[0])
            assert str(caught.value.failed[2]).startswith("not attempted: the SMTP server")
            assert all(error.temporary for error in caught.value.failed.values())
        finally:
            for writer in connections:
                writer.close()
            silent.close()
            await silent.wait_closed()

    async def test_too_big_for_the_server(self, smtp_server):
        """A message over the server's SIZE limit is refused before it is transferred."""
        server = await smtp_server(data_size_limit=2000)
        message = make(attachments=[Attachment("big.bin", b"\x00" * 5000)])
        with pytest.raises(MailDeliveryError, match="accepts at most 2000 bytes") as caught:
            await plain_sender(server).send(message)
        assert not caught.value.temporary
        assert server.received == []

    async def test_a_batch_reports_which_messages_failed(self, smtp_server):
        """In a batch, a refused message does not stop the others; the error says which."""
        server = await smtp_server()
        server.handler.rcpt_replies["gone@example.com"] = "550 5.1.1 No such user"
        messages = [
            make(subject="first"),
            make(subject="second", recipients=["gone@example.com"]),
            make(subject="third"),
        ]
        with pytest.raises(BatchDeliveryError, match="1 of 3 messages were not sent") as caught:
            await plain_sender(server).send_many(messages)
        assert sorted(caught.value.sent) == [0, 2]
        assert list(caught.value.failed) == [1]
        assert [r.message["Subject"] for r in server.received] == ["first", "third"]
        assert server.handler.sessions == 1


class TestConfiguration:
    def test_default_ports_follow_security(self):
        """Ports default to 25, 587 (STARTTLS) and 465 (TLS); auto on 465 means TLS."""
        assert SmtpMailSender("mail.example.com").port == 25
        assert SmtpMailSender("mail.example.com", security="starttls").port == 587
        assert SmtpMailSender("mail.example.com", security="tls").port == 465
        assert SmtpMailSender("mail.example.com", 465).security == "tls"

    @pytest.mark.parametrize(
        ("options", "fragment"),
        [
            ({"security": "ssl"}, "security must be one of"),
            ({"username": "u"}, "both username and password"),
            ({"password": "p"}, "both username and password"),
            ({"timeout": 0}, "timeout must be a positive"),
        ],
    )
    def test_bad_settings_are_refused(self, options, fragment):
        """Invalid settings fail when the sender is made, not when mail is sent."""
        with pytest.raises(ValueError, match=fragment):
            SmtpMailSender("mail.example.com", **options)

    def test_repr_hides_the_password(self):
        """The password never appears in the sender's repr."""
        sender = SmtpMailSender("mail.example.com", 587, "user", "hunter2")
        assert "hunter2" not in repr(sender)
        assert "mail.example.com:587" in repr(sender)
