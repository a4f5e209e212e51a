"""The scheduler: turns due cron ticks into tasks, exactly once per (schedule, fire time).

Every worker given schedules runs one. Each tick is written together with a row keyed by
(schedule, fire time), in one statement that writes nothing when the key exists, so
several schedulers may race for the same tick and one task results.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from typing import TYPE_CHECKING

from ._errors import QueueUnavailableError, TaskRegistrationError
from ._ids import new_task_id
from ._records import CronTick, NewTask

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ._backend import TaskBackend
    from ._registry import TaskRegistry
    from ._schedule import CronSchedule

logger = logging.getLogger("scaffold.tasks")

# A tick this late (or later) is "missed" and follows the schedule's catch-up policy.
MISSED_AFTER = datetime.timedelta(minutes=1)
_MAX_SLEEP = 60.0


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Scheduler:
    """Fires the due ticks of `schedules`; `run` loops until told to stop."""

    def __init__(
        self,
        backend: TaskBackend,
        registry: TaskRegistry,
        schedules: Sequence[CronSchedule],
        *,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        names = [s.name for s in schedules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise TaskRegistrationError(f"schedule names must be unique: {duplicates}")
        for schedule in schedules:
            if type(schedule.task) not in registry:
                raise TaskRegistrationError(
                    f"schedule {schedule.name!r}: its task type "
                    f"{type(schedule.task).__qualname__} is not registered"
                )
        self._backend = backend
        self._registry = registry
        self._schedules = tuple(schedules)
        self._clock = clock
        self._cursor: dict[str, datetime.datetime] = {}  # last fire time handled
        self.fired = 0

    async def start(self) -> None:
        """Learn the last fire times from the database; new schedules start from now."""
        last = await self._backend.last_fire_times([s.name for s in self._schedules])
        now = self._clock()
        for schedule in self._schedules:
            self._cursor[schedule.name] = last.get(schedule.name, now)

    def due(self, now: datetime.datetime) -> tuple[list[CronTick], dict[str, datetime.datetime]]:
        """The ticks due at `now` by catch-up policy, and the cursors once they are written."""
        ticks: list[CronTick] = []
        cursors: dict[str, datetime.datetime] = {}
        for schedule in self._schedules:
            cursor = self._cursor.get(schedule.name, now)
            times: list[datetime.datetime] = []
            moment = schedule.next_after(cursor)
            while moment is not None and moment <= now:
                times.append(moment)
                cursor = moment
                if len(times) > schedule.max_catch_up:
                    times.pop(0)
                moment = schedule.next_after(moment)
            cursors[schedule.name] = cursor
            on_time = [t for t in times if now - t < MISSED_AFTER]
            missed = [t for t in times if now - t >= MISSED_AFTER]
            if missed and schedule.catch_up == "latest":
                on_time = on_time or missed[-1:]
            elif missed and schedule.catch_up == "all":
                on_time = [*missed, *on_time][-schedule.max_catch_up :]
            ticks.extend(self._tick(schedule, t) for t in on_time)
        return ticks, cursors

    def _tick(self, schedule: CronSchedule, fire_time: datetime.datetime) -> CronTick:
        definition = self._registry.for_task(schedule.task)
        task = NewTask(
            id=new_task_id(),
            name=definition.name,
            queue=definition.queue,
            payload=definition.encode(schedule.task),
            priority=definition.priority,
            max_attempts=definition.max_attempts,
        )
        return CronTick(schedule.name, fire_time, task)

    def seconds_to_next(self, now: datetime.datetime) -> float:
        upcoming = [
            moment
            for s in self._schedules
            if (moment := s.next_after(self._cursor.get(s.name, now))) is not None
        ]
        if not upcoming:
            return _MAX_SLEEP
        return max(0.0, min(_MAX_SLEEP, (min(upcoming) - now).total_seconds()))

    async def fire_due(self) -> int:
        """Write the ticks due now; returns how many tasks this call created."""
        ticks, cursors = self.due(self._clock())
        created = await self._backend.fire(ticks) if ticks else 0
        # Only now: ticks whose write failed are tried again on the next round.
        self._cursor.update(cursors)
        self.fired += created
        if created:
            logger.info("scheduler enqueued %d cron task(s)", created)
        return created

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = 0.1
        while not stopping.is_set():
            try:
                if not self._cursor:
                    await self.start()
                await self.fire_due()
                backoff = 0.1
                delay = self.seconds_to_next(self._clock())
            except QueueUnavailableError as error:
                logger.warning("scheduler cannot reach the database (retrying): %s", error)
                delay = backoff
                backoff = min(backoff * 2, 5.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stopping.wait()
