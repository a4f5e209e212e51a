"""Exponential backoff with jitter between the attempts of a failing task."""

from __future__ import annotations

import dataclasses
import random

from ._durations import Duration, seconds


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a failed task waits before its next attempt.

    The n-th retry waits `initial_delay * multiplier ** (n - 1)`, capped at `max_delay`,
    minus a random share of up to `jitter` of it, so tasks that failed together (a
    dependency was down) do not all come back at the same instant.
    """

    initial_delay: Duration = 1.0
    max_delay: Duration = 600.0
    multiplier: float = 2.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        seconds(self.initial_delay, "RetryPolicy.initial_delay")
        seconds(self.max_delay, "RetryPolicy.max_delay")
        if not 1.0 <= self.multiplier <= 100.0:  # noqa: PLR2004 - a sane growth factor
            raise ValueError(f"RetryPolicy.multiplier must be in [1, 100], not {self.multiplier}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"RetryPolicy.jitter must be in [0, 1], not {self.jitter}")

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `failed_attempts`-th failure (1 for the first)."""
        initial = seconds(self.initial_delay, "initial_delay")
        cap = seconds(self.max_delay, "max_delay")
        exponent = max(failed_attempts - 1, 0)
        # Compare in log space first so a large exponent cannot overflow the float.
        base = cap if exponent > 1000 else min(cap, initial * self.multiplier**exponent)  # noqa: PLR2004
        draw = (rng or random).random()
        return base * (1.0 - self.jitter * draw)
