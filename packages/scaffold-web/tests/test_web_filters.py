"""The time_ago filter."""

from __future__ import annotations

import datetime

import pytest

from scaffold.web import time_ago

NOW = datetime.datetime(2025, 1, 10, 12, 0, 0)  # noqa: DTZ001 - naive on purpose


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (datetime.timedelta(seconds=10), "just now"),
        (datetime.timedelta(seconds=50), "1 minute ago"),
        (datetime.timedelta(minutes=5), "5 minutes ago"),
        (datetime.timedelta(hours=1), "1 hour ago"),
        (datetime.timedelta(hours=26), "1 day ago"),
        (datetime.timedelta(days=9), "1 week ago"),
        (datetime.timedelta(days=65), "2 months ago"),
        (datetime.timedelta(days=800), "2 years ago"),
        (datetime.timedelta(minutes=-3), "in 3 minutes"),
    ],
)
def test_words(delta: datetime.timedelta, words: str) -> None:
    """Durations read as a person would say them."""
    assert time_ago(NOW - delta, now=NOW) == words


def test_aware_datetimes_compare_in_utc() -> None:
    """An aware datetime is measured against the current UTC time."""
    moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=3)
    assert time_ago(moment) == "3 hours ago"


def test_naive_datetimes_are_local_time() -> None:
    """A naive datetime (as the 0.9 tutorial stores) is measured against local now."""
    moment = datetime.datetime.now() - datetime.timedelta(minutes=2)  # noqa: DTZ005
    assert time_ago(moment) == "2 minutes ago"


def test_not_a_datetime_is_refused() -> None:
    """A wrong type is refused with a message naming it."""
    with pytest.raises(TypeError, match="time_ago needs a datetime, got str"):
        time_ago("yesterday")  # type: ignore[arg-type]
