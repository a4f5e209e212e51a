"""The seam between applications and pub/sub backends: two small protocols.

An application's own interface (the tutorial's `PubSubService`) can simply be `PubSub`;
every backend of this package implements it, and so can a hand-written fake.
"""

from __future__ import annotations

from typing import Protocol, Self


class Subscription(Protocol):
    """The messages of one channel for one consumer, from subscription until closed.

    Iterating yields each message as a str, in the order each publisher sent them. It
    raises `MessagesMissedError` where messages may be missing and can be iterated again
    afterwards; it stops when the subscription or the pub/sub is closed.
    """

    @property
    def channel(self) -> str: ...

    @property
    def dropped(self) -> int:
        """Messages this subscriber lost because its buffer was full."""
        ...

    def __aiter__(self) -> Self: ...

    async def __anext__(self) -> str: ...

    async def __aenter__(self) -> Self:
        """Start listening; returns once every later publish is guaranteed to arrive."""
        ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def aclose(self) -> None:
        """Stop receiving; buffered messages are discarded."""
        ...


class PubSub(Protocol):
    """Publish text messages to named channels and subscribe to them."""

    async def publish(self, channel: str, message: str) -> None:
        """Send `message` to every current subscriber of `channel`.

        Returns once the server (or the process, in memory) accepted the message.
        """
        ...

    def subscribe(self, channel: str) -> Subscription:
        """Return a subscription to `channel`; it starts listening on first use."""
        ...
