"""Backoff between attempts: exponential, capped, with jitter."""

from __future__ import annotations

import datetime
import random

import pytest

from scaffold.tasks import RetryPolicy


class TestRetryPolicy:
    def test_delays_grow_exponentially_up_to_the_cap(self):
        """Without jitter, the n-th retry waits initial * multiplier**(n-1), at most max_delay."""
        policy = RetryPolicy(initial_delay=1, max_delay=10, multiplier=2, jitter=0)
        assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
        assert policy.delay(10_000) == 10

    def test_jitter_takes_off_at_most_its_share(self):
        """With jitter j, delays fall in [(1 - j) * base, base] and are not all equal."""
        policy = RetryPolicy(initial_delay=8, max_delay=8, jitter=0.5)
        rng = random.Random(7)  # noqa: S311 - a seeded draw for jitter, not a secret
        delays = [policy.delay(1, rng) for _ in range(200)]
        assert all(4 <= d <= 8 for d in delays)
        assert len(set(delays)) > 100

    def test_timedelta_durations(self):
        """Durations may be timedeltas."""
        policy = RetryPolicy(initial_delay=datetime.timedelta(seconds=3), jitter=0)
        assert policy.delay(1) == 3

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"initial_delay": -1}, "initial_delay"),
            ({"max_delay": float("inf")}, "max_delay"),
            ({"multiplier": 0.5}, "multiplier"),
            ({"jitter": 1.5}, "jitter"),
            ({"initial_delay": "soon"}, "seconds"),
        ],
    )
    def test_bad_values_are_refused(self, kwargs, message):
        """Each bad value is refused with an error naming the field."""
        with pytest.raises((ValueError, TypeError), match=message):
            RetryPolicy(**kwargs)
