"""A sender that writes every message to an `.eml` file, which mail clients open."""

from __future__ import annotations

import asyncio
import datetime
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, override

from ._errors import MailDeliveryError
from ._mime import POLICY, build_mime, new_message_id
from .types import MailSender

if TYPE_CHECKING:
    from ._message import Message


class FileMailSender(MailSender):
    """Writes each message to `directory` as `<UTC time>-<random>.eml`.

    The file holds the message as SMTP would send it, plus its Bcc header (the sender's
    copy, RFC 5322 3.6.3). A file appears complete or not at all: it is written under a
    temporary name and renamed. `last_path` is the file of the latest message.
    """

    def __init__(self, directory: str | Path, *, message_id_domain: str | None = None) -> None:
        self.directory = Path(directory)
        self.message_id_domain = message_id_domain
        self.last_path: Path | None = None

    @override
    async def send(self, message: Message, /) -> str:
        message_id = message.message_id or new_message_id(self.message_id_domain)
        data = build_mime(message, message_id=message_id, include_bcc=True).as_bytes(policy=POLICY)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError as error:
            raise MailDeliveryError(
                f"could not write {message_id} to {path}: {error}", temporary=True
            ) from error
        self.last_path = path
        return message_id


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".eml.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
