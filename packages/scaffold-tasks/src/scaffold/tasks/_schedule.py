"""`CronSchedule`: a task enqueued on a cron schedule, declared in code."""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from typing import Literal

from ._cron import CronExpression
from ._task import check_name

type CatchUp = Literal["latest", "all", "none"]
_CATCH_UP = ("latest", "all", "none")


@dataclasses.dataclass(frozen=True, slots=True)
class CronSchedule:
    """Enqueue `task` at every fire time of `expression`.

    Parameters:
        name: the schedule's stable name; with the fire time it forms the key that makes
            each tick enqueue exactly once, however many schedulers run.
        expression: a cron expression, e.g. "0 3 * * *" or "*/10 * * * * *" (seconds).
        task: the task instance to enqueue (a registered frozen dataclass).
        timezone: the zone the expression's wall-clock times are in (default UTC).
        catch_up: what to do with ticks missed while no scheduler ran (more than a minute
            late): "latest" enqueues the most recent one only, "all" enqueues each of them
            (at most `max_catch_up`, the most recent ones), "none" enqueues none.
        max_catch_up: the cap for catch_up="all".
    """

    name: str
    expression: str
    task: object
    timezone: str = "UTC"
    catch_up: CatchUp = "latest"
    max_catch_up: int = 100
    cron: CronExpression = dataclasses.field(init=False, repr=False, compare=False)
    zone: zoneinfo.ZoneInfo = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_name(self.name, "schedule name")
        object.__setattr__(self, "cron", CronExpression.parse(self.expression))
        try:
            zone = zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"schedule {self.name!r}: unknown time zone {self.timezone!r}"
            ) from error
        object.__setattr__(self, "zone", zone)
        if self.catch_up not in _CATCH_UP:
            raise ValueError(
                f"schedule {self.name!r}: catch_up must be one of {_CATCH_UP}, "
                f"not {self.catch_up!r}"
            )
        if self.max_catch_up < 1:
            raise ValueError(f"schedule {self.name!r}: max_catch_up must be >= 1")

    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The first fire time strictly after `moment`, in UTC."""
        return self.cron.next_after(moment, self.zone)
