"""A snapshot of a pub/sub's state and counters, for tests, health checks and metrics."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class PubSubStats:
    subscribers: int
    """Open subscriptions that are registered for messages."""
    channels: int
    """Channels with at least one subscriber in this process."""
    listening: int
    """Channels the server connection listens to right now (0 while disconnected)."""
    connected: bool
    """Whether the listening connection is up (always True in memory)."""
    published: int
    """Messages this process published successfully."""
    delivered: int
    """Messages put into subscribers' buffers (one per subscriber)."""
    dropped: int
    """Messages refused by full subscriber buffers (each one signalled as a gap)."""
    connection_gaps: int
    """Gap signals queued to subscribers because the connection dropped."""
    reconnects: int
    """Times the listening connection was re-established after a loss."""
