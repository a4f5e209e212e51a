"""Sending over SMTP with aiosmtplib: plain, STARTTLS or implicit TLS, with AUTH."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Literal, Self, override

import aiosmtplib

from ._batch import send_each
from ._errors import MailDeliveryError, RecipientsRefusedError
from ._mime import POLICY, build_mime, new_message_id
from ._smtp_errors import delivery_error
from .types import MailSender

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Iterable
    from types import TracebackType

    from ._message import Message

type SmtpSecurity = Literal["auto", "starttls", "tls", "none"]
_SECURITY_MODES = ("auto", "starttls", "tls", "none")
_IMPLICIT_TLS_PORT = 465


class SmtpMailSender(MailSender):
    """Sends mail to an SMTP server.

    Parameters:
        host, port: the server; the port defaults to 465 with `security="tls"`, 587
            with `"starttls"` and 25 otherwise.
        username, password: log in with these (AUTH) when given.
        message_id_domain: the domain of the Message-IDs it makes (the local host name
            by default).
        security: `"auto"` (the default) uses implicit TLS on port 465 and upgrades other
            connections with STARTTLS when the server offers it; `"starttls"` requires the
            upgrade; `"tls"` connects with TLS from the start; `"none"` never encrypts.
            A password is never sent over an unencrypted connection unless `security` is
            `"none"`.
        timeout: seconds to wait for the connection and for each reply.
        tls_context: the `ssl.SSLContext` to verify the server with (the system's trusted
            certificates by default).
        local_hostname: the name it greets the server with (EHLO).

    Each `send` uses a connection of its own; `send_many` and `connect()` share one.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        message_id_domain: str | None = None,
        *,
        security: SmtpSecurity = "auto",
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in _SECURITY_MODES:
            raise ValueError(
                f"security must be one of {', '.join(_SECURITY_MODES)}, not {security!r}"
            )
        if (username is None) != (password is None):
            raise ValueError("give both username and password to log in, or neither")
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if port is None:
            port = {"tls": 465, "starttls": 587}.get(security, 25)
        if security == "auto" and port == _IMPLICIT_TLS_PORT:
            security = "tls"
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.message_id_domain = message_id_domain
        self.security: SmtpSecurity = security
        self.timeout = timeout
        self.tls_context = tls_context
        self.local_hostname = local_hostname

    @property
    def server(self) -> str:
        """`host:port`, as error messages name the server."""
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username else ""
        return f"SmtpMailSender({self.server}, security={self.security!r}{user})"

    @override
    async def send(self, message: Message, /) -> str:
        async with self.connect() as connection:
            return await connection.send(message)

    @override
    async def send_many(self, messages: Iterable[Message], /) -> list[str]:
        async with self.connect() as connection:
            return await connection.send_many(messages)

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[SmtpConnection]:
        """Open one connection for several messages; it is closed when the block ends."""
        connection = SmtpConnection(self)
        try:
            yield connection
        finally:
            await connection.close()

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            use_tls=self.security == "tls",
            # "starttls" is done by SmtpConnection, to fail clearly when it is not offered.
            start_tls=None if self.security == "auto" else False,
            tls_context=self.tls_context,
            local_hostname=self.local_hostname,
        )


class SmtpConnection:
    """A connection of an `SmtpMailSender`, opened on the first message.

    When the server has closed it between two messages (an idle timeout, say), the next
    message opens a new one. When a connection cannot be opened (or logged in) at all, the
    later messages fail at once with the same error instead of each waiting for its own
    timeout.
    """

    def __init__(self, sender: SmtpMailSender) -> None:
        self._sender = sender
        self._client: aiosmtplib.SMTP | None = None
        self._connect_error: MailDeliveryError | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, message: Message, /) -> str:
        """Send one message; return its Message-ID or raise `MailDeliveryError`."""
        sender = self._sender
        message_id = message.message_id or new_message_id(sender.message_id_domain)
        data = build_mime(message, message_id=message_id).as_bytes(policy=POLICY)
        recipients = message.envelope_recipients
        if self._connect_error is not None:
            failed = self._connect_error
            raise MailDeliveryError(
                f"not attempted: {failed}",
                temporary=failed.temporary,
                code=failed.code,
                recipients=recipients,
            )
        try:
            client = await self._connected()
        except MailDeliveryError as error:
            await self.close()
            self._connect_error = error
            raise
        except (aiosmtplib.SMTPException, OSError) as error:
            await self.close()
            self._connect_error = delivery_error(error, server=sender.server, recipients=recipients)
            raise self._connect_error from error
        self._check_size(client, len(data))
        try:
            refused, _ = await client.sendmail(message.envelope_sender, recipients, data)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as error:
            # aiosmtplib has reset the transaction; the connection stays usable for a batch
            # (or reports itself closed after a 421, and the next message reconnects).
            raise delivery_error(error, server=sender.server, recipients=recipients) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            await self.close()
            raise delivery_error(error, server=sender.server, recipients=recipients) from error
        if refused:
            codes = {address: (reply.code, reply.message) for address, reply in refused.items()}
            listing = "; ".join(
                f"{address}: {code} {text}" for address, (code, text) in codes.items()
            )
            raise RecipientsRefusedError(
                f"the SMTP server at {sender.server} accepted {message_id} for "
                f"{len(recipients) - len(refused)} recipient(s) and refused {listing}",
                refused=codes,
                message_id=message_id,
            )
        return message_id

    async def send_many(self, messages: Iterable[Message], /) -> list[str]:
        """Send several messages over this connection (see `MailSender.send_many`)."""
        return await send_each(self.send, messages)

    async def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        sender = self._sender
        client = sender._client()  # noqa: SLF001 - the connection belongs to its sender
        await client.connect()
        self._client = client
        await _greet(client)
        if sender.security == "starttls":
            if not client.supports_extension("starttls"):
                raise MailDeliveryError(
                    f"the SMTP server at {sender.server} does not offer STARTTLS, which "
                    "security='starttls' requires; nothing was sent",
                    temporary=False,
                )
            await client.starttls()
            await _greet(client)
        if sender.username is not None and sender.password is not None:
            encrypted = client.get_transport_info("sslcontext") is not None
            if not encrypted and sender.security != "none":
                raise MailDeliveryError(
                    f"the SMTP server at {sender.server} offers no STARTTLS, so the password "
                    "would go over the network unencrypted; use security='tls' if the server "
                    "speaks implicit TLS, or security='none' to allow it (a trusted local "
                    "network only)",
                    temporary=False,
                )
            await client.login(sender.username, sender.password)
        return client

    def _check_size(self, client: aiosmtplib.SMTP, size: int) -> None:
        limit = client.esmtp_extensions.get("size", "")
        if limit.isdigit() and 0 < int(limit) < size:
            raise MailDeliveryError(
                f"the message is {size} bytes and the SMTP server at {self._sender.server} "
                f"accepts at most {int(limit)} bytes; send large files as links instead",
                temporary=False,
            )


async def _greet(client: aiosmtplib.SMTP) -> None:
    # Greet now (EHLO, else HELO), so the server's extensions are known before sending.
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()
