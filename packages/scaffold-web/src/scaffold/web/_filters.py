"""Jinja filters every app gets."""

from __future__ import annotations

import datetime

_UNITS = (
    ("year", 365 * 24 * 3600),
    ("month", 30 * 24 * 3600),
    ("week", 7 * 24 * 3600),
    ("day", 24 * 3600),
    ("hour", 3600),
    ("minute", 60),
)
_JUST_NOW_SECONDS = 45


def time_ago(moment: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """How long ago `moment` was, in words: "just now", "5 minutes ago", "in 2 days".

    Naive datetimes are taken as local time, aware ones are compared in UTC.
    """
    if not isinstance(moment, datetime.datetime):
        raise TypeError(f"time_ago needs a datetime, got {type(moment).__name__}: {moment!r}")
    if now is None:
        now = (
            datetime.datetime.now()  # noqa: DTZ005 - a naive moment is local time
            if moment.tzinfo is None
            else datetime.datetime.now(datetime.UTC)
        )
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < _JUST_NOW_SECONDS:
        return "just now"
    unit, count = "minute", 1
    for name, size in _UNITS:
        if seconds >= size:
            unit, count = name, int(seconds // size)
            break
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if future else f"{words} ago"
