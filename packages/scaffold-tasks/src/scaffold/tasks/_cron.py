"""Cron expressions: parsing and the next fire time after a moment.

Five fields (minute hour day-of-month month day-of-week), or six with seconds first.
Each field takes `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, and lists `a,b`;
months and weekdays also take names (JAN, MON). Day-of-week 0 and 7 are Sunday. As in
classic cron, when both day fields are restricted a day matching either one fires.
Macros: @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly.

Times are wall-clock times in the schedule's time zone. A time skipped by a daylight-
saving jump does not fire; a time that occurs twice fires once, at its first occurrence.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

_MACROS: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS: Final = {
    name: i + 1
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS: Final = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_MAX_YEARS_AHEAD: Final = 8  # 29 February on a Monday can take years; anything later never fires


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] = dataclasses.field(default_factory=dict)


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day of month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTHS)
_WEEKDAY = _Field("day of week", 0, 7, _DAYS)


def _value(text: str, field: _Field, expression: str) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.names[upper]
    if not text.isdigit():
        raise ValueError(f"cron expression {expression!r}: {text!r} is not a valid {field.name}")
    value = int(text)
    if not field.low <= value <= field.high:
        raise ValueError(
            f"cron expression {expression!r}: {field.name} {value} is outside "
            f"{field.low}-{field.high}"
        )
    return value


def _parse_field(text: str, field: _Field, expression: str) -> tuple[frozenset[int], bool]:
    """The values a field allows, and whether it was `*` (unrestricted)."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"cron expression {expression!r}: bad step in {part!r}")
            step = int(step_text)
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, field, expression), _value(last, field, expression)
            if low > high:
                raise ValueError(f"cron expression {expression!r}: empty range {base!r}")
        elif base:
            low = _value(base, field, expression)
            high = field.high if step_text else low
        else:
            raise ValueError(f"cron expression {expression!r}: empty {field.name} in {text!r}")
        values.update(range(low, high + 1, step))
    return frozenset(values), text == "*"


@dataclasses.dataclass(frozen=True, slots=True)
class CronExpression:
    """A parsed cron expression; `next_after` finds its fire times."""

    text: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: tuple[int, ...]
    weekdays: frozenset[int]  # 0 = Monday, as datetime.weekday()
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> CronExpression:
        if not isinstance(text, str):
            raise TypeError(f"a cron expression is a string, not {text!r}")
        spec = _MACROS.get(text.strip().lower(), text.strip())
        parts = spec.split()
        if len(parts) == 5:  # noqa: PLR2004 - classic cron
            parts = ["0", *parts]
        if len(parts) != 6:  # noqa: PLR2004 - with seconds
            raise ValueError(
                f"cron expression {text!r} needs 5 fields (minute hour day month weekday) "
                "or 6 (with seconds first)"
            )
        seconds, _ = _parse_field(parts[0], _SECOND, text)
        minutes, _ = _parse_field(parts[1], _MINUTE, text)
        hours, _ = _parse_field(parts[2], _HOUR, text)
        days, any_day = _parse_field(parts[3], _DAY, text)
        months, _ = _parse_field(parts[4], _MONTH, text)
        cron_weekdays, any_weekday = _parse_field(parts[5], _WEEKDAY, text)
        # cron counts from Sunday = 0 (and 7); datetime.weekday() from Monday = 0.
        weekdays = frozenset((d - 1) % 7 for d in cron_weekdays)
        return cls(
            text=text,
            seconds=tuple(sorted(seconds)),
            minutes=tuple(sorted(minutes)),
            hours=tuple(sorted(hours)),
            days=days,
            months=tuple(sorted(months)),
            weekdays=weekdays,
            any_day=any_day,
            any_weekday=any_weekday,
        )

    def _day_matches(self, day: datetime.date) -> bool:
        in_days = day.day in self.days
        in_weekdays = day.weekday() in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return in_weekdays
        if self.any_weekday:
            return in_days
        return in_days or in_weekdays

    def _next_day(self, day: datetime.date) -> datetime.date | None:
        """The first matching day on or after `day`."""
        limit = day + datetime.timedelta(days=366 * _MAX_YEARS_AHEAD)
        while day <= limit:
            if day.month not in self.months:
                index = bisect.bisect_right(self.months, day.month)
                if index < len(self.months):
                    day = day.replace(month=self.months[index], day=1)
                else:
                    day = datetime.date(day.year + 1, self.months[0], 1)
                continue
            if self._day_matches(day):
                return day
            day += datetime.timedelta(days=1)
        return None

    def _next_local(self, after: datetime.datetime) -> datetime.datetime | None:
        """The first matching naive wall time strictly after `after` (naive)."""
        start = after.replace(microsecond=0) + datetime.timedelta(seconds=1)
        day = self._next_day(start.date())
        while day is not None:
            floor = start.time() if day == start.date() else datetime.time(0)
            found = self._time_on(floor)
            if found is not None:
                return datetime.datetime.combine(day, found)
            day = self._next_day(day + datetime.timedelta(days=1))
        return None

    def _time_on(self, floor: datetime.time) -> datetime.time | None:
        """The first allowed time of day at or after `floor`."""
        for hour in self.hours[bisect.bisect_left(self.hours, floor.hour) :]:
            minute_floor = floor.minute if hour == floor.hour else 0
            for minute in self.minutes[bisect.bisect_left(self.minutes, minute_floor) :]:
                second_floor = floor.second if (hour, minute) == (floor.hour, floor.minute) else 0
                index = bisect.bisect_left(self.seconds, second_floor)
                if index < len(self.seconds):
                    return datetime.time(hour, minute, self.seconds[index])
        return None

    def next_after(self, moment: datetime.datetime, zone: ZoneInfo) -> datetime.datetime | None:
        """The first fire time strictly after `moment` (aware), in UTC; None if never."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs a timezone-aware datetime")
        local = moment.astimezone(zone).replace(tzinfo=None)
        while True:
            candidate = self._next_local(local)
            if candidate is None:
                return None
            aware = candidate.replace(tzinfo=zone, fold=0)
            as_utc = aware.astimezone(datetime.UTC)
            # A wall time inside a daylight-saving gap does not exist: it would not
            # survive the round trip, and does not fire.
            exists = as_utc.astimezone(zone).replace(tzinfo=None) == candidate
            if exists and as_utc > moment:
                return as_utc
            local = candidate
