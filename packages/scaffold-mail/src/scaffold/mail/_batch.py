"""Sending a batch message by message without losing track of which ones failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import BatchDeliveryError, MailError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from ._message import Message


async def send_each(
    send: Callable[[Message], Awaitable[str]], messages: Iterable[Message]
) -> list[str]:
    """Call `send` for every message; raise `BatchDeliveryError` at the end if any failed."""
    sent: dict[int, str] = {}
    failed: dict[int, MailError] = {}
    for index, message in enumerate(messages):
        try:
            sent[index] = await send(message)
        except MailError as error:
            failed[index] = error
    if failed:
        raise BatchDeliveryError(sent, failed)
    return list(sent.values())
