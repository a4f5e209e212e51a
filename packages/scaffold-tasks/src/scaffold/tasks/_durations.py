"""Durations given as seconds or `timedelta`, checked once where they enter the API."""

from __future__ import annotations

import datetime
import math

type Duration = float | datetime.timedelta


def seconds(value: object, what: str, *, allow_zero: bool = True) -> float:
    """`value` in seconds; a clear error for negative, infinite or non-numeric values."""
    if isinstance(value, datetime.timedelta):
        result = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    else:
        raise TypeError(f"{what} must be seconds (a number) or a timedelta, not {value!r}")
    if math.isnan(result) or math.isinf(result) or result < 0 or (result == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{what} must be a finite duration {bound}, not {value!r}")
    return result
