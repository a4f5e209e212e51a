"""Delays between reconnection attempts: exponential, capped, with jitter."""

from __future__ import annotations

import random

from scaffold.pubsub._validation import check_seconds


class Backoff:
    """The n-th retry waits about `first * 2**n` seconds, at most `limit`.

    The first attempt after a loss is immediate (a killed backend is usually back at
    once); jitter keeps many processes from reconnecting in lockstep.
    """

    def __init__(self, first: float = 0.05, limit: float = 5.0) -> None:
        self.first = check_seconds("first reconnect delay", first)
        self.limit = check_seconds("reconnect delay limit", limit)
        if self.limit < self.first:
            raise ValueError(f"reconnect delay limit {limit} is below the first delay {first}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt` (0 is the first)."""
        if attempt <= 0:
            return 0.0
        base = min(self.limit, self.first * 2.0 ** min(attempt - 1, 32))
        return base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
