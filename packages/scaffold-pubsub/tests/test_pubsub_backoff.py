"""Reconnection delays: immediate first, then growing, capped and jittered."""

import pytest

from scaffold.pubsub import Backoff


def test_first_attempt_is_immediate():
    """A dropped connection is retried at once; most drops are brief."""
    assert Backoff().delay(0) == 0.0


def test_delays_grow_exponentially_up_to_the_limit():
    """Each retry waits up to twice as long as the one before, never beyond the limit,
    and at least half of its nominal delay (the jitter)."""
    backoff = Backoff(first=0.1, limit=1.0)
    for attempt, nominal in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (60, 1.0)]:
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(nominal / 2 <= delay <= nominal for delay in delays)
    assert len({backoff.delay(3) for _ in range(20)}) > 1  # jittered, not lockstep


@pytest.mark.parametrize(
    ("first", "limit", "match"),
    [(0, 1.0, "first reconnect delay"), (0.5, 0.1, "below the first delay"), (1, -1, "limit")],
)
def test_bad_settings_are_refused(first, limit, match):
    """Delays must be positive and the limit at least the first delay."""
    with pytest.raises(ValueError, match=match):
        Backoff(first, limit)
