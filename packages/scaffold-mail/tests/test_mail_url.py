"""scaffold.mail._url: choosing the sender from a URL setting."""

import pytest

from scaffold.mail import (
    ConsoleMailSender,
    FileMailSender,
    InMemoryMailSender,
    SmtpMailSender,
    mail_sender_from_url,
)


class TestMailSenderFromUrl:
    def test_local_senders(self, tmp_path):
        """console://, memory:// and file:///folder give the local senders."""
        assert isinstance(mail_sender_from_url("console://"), ConsoleMailSender)
        assert isinstance(mail_sender_from_url("memory://"), InMemoryMailSender)
        sender = mail_sender_from_url(f"file://{tmp_path}/out%20box")
        assert isinstance(sender, FileMailSender)
        assert sender.directory == tmp_path / "out box"

    def test_smtp_with_credentials_and_options(self):
        """smtp:// gives SMTP with decoded credentials and the query's options."""
        sender = mail_sender_from_url(
            "smtp://user%40example.com:p%40ss%3Aword@mail.example.com:2525"
            "?timeout=7.5&message_id_domain=app.example.com&local_hostname=web1"
        )
        assert isinstance(sender, SmtpMailSender)
        assert (sender.host, sender.port, sender.security) == ("mail.example.com", 2525, "auto")
        assert (sender.username, sender.password) == ("user@example.com", "p@ss:word")
        assert sender.timeout == 7.5
        assert sender.message_id_domain == "app.example.com"
        assert sender.local_hostname == "web1"

    @pytest.mark.parametrize(
        ("url", "security", "port"),
        [
            ("smtp://mail.example.com", "auto", 25),
            ("smtp://mail.example.com?security=none", "none", 25),
            ("smtp+starttls://mail.example.com", "starttls", 587),
            ("smtps://mail.example.com", "tls", 465),
            ("SMTPS://mail.example.com:4650", "tls", 4650),
        ],
    )
    def test_scheme_chooses_security_and_port(self, url, security, port):
        """The scheme decides the encryption and the default port."""
        sender = mail_sender_from_url(url)
        assert isinstance(sender, SmtpMailSender)
        assert (sender.security, sender.port) == (security, port)

    @pytest.mark.parametrize(
        ("url", "fragment"),
        [
            ("http://mail.example.com", "unknown scheme 'http'"),
            ("smtp://", "host is missing"),
            ("smtp://mail.example.com?tls=yes", "unknown options ['tls']"),
            ("smtps://mail.example.com?security=none", "goes with smtp:// only"),
            ("smtp://mail.example.com?security=ssl", "security must be one of"),
            ("smtp://mail.example.com?timeout=soon", "could not convert"),
            ("smtp://mail.example.com:99999", "out of range"),
            ("file://", "give the folder"),
        ],
    )
    def test_bad_urls_are_refused_clearly(self, url, fragment):
        """A URL that names no valid sender is refused with what is wrong."""
        with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
            mail_sender_from_url(url)

    def test_errors_do_not_show_the_password(self):
        """Error messages hide the password of the URL."""
        with pytest.raises(ValueError, match=r"user:\*\*\*@") as caught:
            mail_sender_from_url("smtp://user:hunter2@mail.example.com?bad=1")
        assert "hunter2" not in str(caught.value)
