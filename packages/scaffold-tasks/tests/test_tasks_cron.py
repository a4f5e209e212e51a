"""Cron expressions: parsing, fire times, day rules and daylight-saving time."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from scaffold.tasks import CronExpression

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def at(*parts: int, zone: ZoneInfo = UTC) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def fires(expression: str, start: datetime.datetime, count: int, zone: ZoneInfo = UTC) -> list:
    cron = CronExpression.parse(expression)
    moments = []
    moment = start
    for _ in range(count):
        moment = cron.next_after(moment, zone)
        assert moment is not None
        moments.append(moment)
    return moments


class TestParse:
    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("* * * *", "needs 5 fields"),
            ("60 * * * *", "minute 60 is outside 0-59"),
            ("* 24 * * *", "hour 24"),
            ("* * 0 * *", "day of month 0"),
            ("* * * 13 *", "month 13"),
            ("* * * * 8", "day of week 8"),
            ("*/0 * * * *", "bad step"),
            ("5-1 * * * *", "empty range"),
            ("a * * * *", "'a' is not a valid minute"),
            ("1,,2 * * * *", "empty minute"),
        ],
    )
    def test_errors_name_the_problem(self, expression, message):
        """A bad expression is refused with the field and the value at fault."""
        with pytest.raises(ValueError, match=message):
            CronExpression.parse(expression)

    def test_lists_ranges_steps_and_names(self):
        """Fields take lists, ranges, steps and month/day names."""
        cron = CronExpression.parse("0,30 9-17/4 * JAN-MAR mon-fri")
        assert cron.minutes == (0, 30)
        assert cron.hours == (9, 13, 17)
        assert cron.months == (1, 2, 3)
        assert cron.weekdays == frozenset(range(5))

    def test_macros(self):
        """@daily and friends mean what classic cron says."""
        assert CronExpression.parse("@hourly").minutes == (0,)
        daily = CronExpression.parse("@daily")
        assert (daily.minutes, daily.hours) == ((0,), (0,))

    def test_sunday_is_zero_and_seven(self):
        """Day-of-week 0 and 7 both mean Sunday."""
        assert (
            CronExpression.parse("0 0 * * 0").weekdays
            == CronExpression.parse("0 0 * * 7").weekdays
            == frozenset({6})
        )


class TestNextAfter:
    def test_every_five_minutes(self):
        """Fire times are strictly after the given moment."""
        assert fires("*/5 * * * *", at(2024, 1, 1, 10, 5), 3) == [
            at(2024, 1, 1, 10, 10),
            at(2024, 1, 1, 10, 15),
            at(2024, 1, 1, 10, 20),
        ]

    def test_seconds_field(self):
        """Six fields put seconds first."""
        assert fires("*/20 * * * * *", at(2024, 1, 1, 0, 0, 50), 3) == [
            at(2024, 1, 1, 0, 1, 0),
            at(2024, 1, 1, 0, 1, 20),
            at(2024, 1, 1, 0, 1, 40),
        ]

    def test_month_and_year_rollover(self):
        """The search crosses month and year ends, and skips months without the day."""
        assert fires("0 0 31 * *", at(2024, 1, 31, 12), 3) == [
            at(2024, 3, 31),
            at(2024, 5, 31),
            at(2024, 7, 31),
        ]
        assert fires("0 0 29 2 *", at(2024, 3, 1), 1) == [at(2028, 2, 29)]

    def test_day_of_month_or_day_of_week(self):
        """When both day fields are restricted, a day matching either fires (classic cron)."""
        moments = fires("0 12 1 * mon", at(2024, 4, 28), 3)
        assert moments == [at(2024, 4, 29, 12), at(2024, 5, 1, 12), at(2024, 5, 6, 12)]

    def test_impossible_expression_never_fires(self):
        """30 February never comes."""
        assert CronExpression.parse("0 0 30 2 *").next_after(at(2024, 1, 1), UTC) is None

    def test_timezone_wall_clock(self):
        """Times are wall-clock times of the zone, returned in UTC."""
        assert fires("0 9 * * *", at(2024, 1, 10, 12), 1, BERLIN) == [at(2024, 1, 11, 8)]
        assert fires("0 9 * * *", at(2024, 7, 10, 12), 1, BERLIN) == [at(2024, 7, 11, 7)]

    def test_spring_forward_gap_is_skipped(self):
        """02:30 does not exist on the night clocks go forward; that day does not fire."""
        moments = fires("30 2 * * *", at(2024, 3, 30, 12), 2, BERLIN)
        assert moments == [at(2024, 4, 1, 0, 30), at(2024, 4, 2, 0, 30)]

    def test_fall_back_fires_once(self):
        """Wall times between 02:00 and 03:00 happen twice on the night clocks go back; each
        fires once, at its first occurrence (an hourly job skips the repeated hour)."""
        moments = fires("30 2 * * *", at(2024, 10, 26, 12), 2, BERLIN)
        assert moments == [at(2024, 10, 27, 0, 30), at(2024, 10, 28, 1, 30)]
        # 02:00 CEST is 00:00 UTC; the repeated 02:00 (CET, 01:00 UTC) does not fire again.
        hourly = fires("0 * * * *", at(2024, 10, 27, 0, 0), 2, BERLIN)
        assert hourly == [at(2024, 10, 27, 2), at(2024, 10, 27, 3)]

    def test_naive_moment_is_refused(self):
        """A naive datetime is ambiguous and refused."""
        with pytest.raises(ValueError, match="timezone-aware"):
            CronExpression.parse("* * * * *").next_after(datetime.datetime(2024, 1, 1), UTC)  # noqa: DTZ001
