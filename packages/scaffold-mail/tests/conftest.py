"""A real SMTP server (aiosmtpd) in the test's event loop, with STARTTLS, implicit TLS and AUTH.

`smtp_server(...)` starts one on a free loopback port and returns a `SmtpTestServer`,
which records every message it accepts and can be told to refuse. The servers stop
when the test ends. TLS uses a self-signed certificate made once per session for
127.0.0.1; `client_tls` is an SSL context that trusts it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
import ssl
from email import message_from_bytes, policy
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from email.message import EmailMessage
    from pathlib import Path

USERNAME = "mailer"
PASSWORD = "s3cret pässword"  # noqa: S105 - the test server's own; non-ASCII on purpose


@dataclasses.dataclass
class Received:
    """One message the test server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        """The message parsed back (policy.default gives an EmailMessage)."""
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


class RecordingHandler:
    """aiosmtpd handler that keeps what it receives and refuses what it is told to."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.data_reply: str | None = None
        self.rcpt_replies: dict[str, str] = {}
        self.sessions = 0
        self.login_attempts = 0

    async def handle_EHLO(self, _server, session, _envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hook names
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, _server, _session, envelope, address, _options):  # noqa: N802
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply is not None:
            return self.data_reply
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content,
                tls=server.transport.get_extra_info("ssl_object") is not None,
                login=login,
            )
        )
        return "250 OK queued"


def authenticate(server, _session, _envelope, _mechanism, auth_data):
    server.event_handler.login_attempts += 1
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    if not ok:
        # handled=False makes aiosmtpd answer 535 itself; its default would send nothing.
        return AuthResult(success=False, handled=False)
    return AuthResult(success=True, auth_data=auth_data)


@dataclasses.dataclass
class SmtpTestServer:
    host: str
    port: int
    handler: RecordingHandler
    server: asyncio.Server
    username: str = USERNAME
    password: str = PASSWORD

    protocols: list[SMTP] = dataclasses.field(default_factory=list)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def drop_connections(self) -> None:
        """Close every open client connection from the server's side, as an idle timeout does."""
        for protocol in self.protocols:
            if protocol.transport is not None:
                protocol.transport.close()

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scaffold-mail test server")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsFiles(cert_path, key_path)


@pytest.fixture
def client_tls(tls_files: TlsFiles) -> ssl.SSLContext:
    """An SSL context that trusts the test server's certificate."""
    return tls_files.client_context()


@pytest.fixture
async def smtp_server(
    tls_files: TlsFiles,
) -> AsyncIterator[Callable[..., Awaitable[SmtpTestServer]]]:
    """Start SMTP servers: `await smtp_server(tls="none"|"starttls"|"implicit", auth=False)`."""
    servers: list[SmtpTestServer] = []

    async def start(*, tls: str = "none", auth: bool = False, **options: Any) -> SmtpTestServer:
        handler = RecordingHandler()
        smtp_options: dict[str, Any] = {"hostname": "mail.test", **options}
        implicit = None
        if tls == "starttls":
            smtp_options["tls_context"] = tls_files.server_context()
        elif tls == "implicit":
            implicit = tls_files.server_context()
        if auth:
            smtp_options["authenticator"] = authenticate
            # aiosmtpd only knows about TLS it started itself (STARTTLS): with implicit TLS,
            # or over plain text on purpose, AUTH is offered without requiring TLS, and
            # then not required at all (aiosmtpd warns about requiring it in the clear).
            require_tls = tls == "starttls"
            smtp_options.setdefault("auth_require_tls", require_tls)
            smtp_options["auth_required"] = smtp_options["auth_require_tls"]
        protocols: list[SMTP] = []

        def protocol() -> SMTP:
            protocols.append(SMTP(handler, **smtp_options))
            return protocols[-1]

        server = await asyncio.get_running_loop().create_server(
            protocol, "127.0.0.1", 0, ssl=implicit
        )
        port = server.sockets[0].getsockname()[1]
        running = SmtpTestServer("127.0.0.1", port, handler, server, protocols=protocols)
        servers.append(running)
        return running

    yield start
    for running in servers:
        await running.stop()
