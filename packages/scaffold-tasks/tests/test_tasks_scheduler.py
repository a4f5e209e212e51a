"""Cron schedules: each tick enqueued exactly once, however many schedulers run."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
from typing import TYPE_CHECKING

import pytest

from scaffold.tasks import (
    CronSchedule,
    Scheduler,
    Task,
    TaskQueue,
    TaskRegistrationError,
    TaskRegistry,
    TaskState,
    Worker,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from scaffold.tasks import TaskBackend

START = datetime.datetime(2024, 6, 1, 12, 0, 0, tzinfo=datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Tick(Task, name="test.tick"):
    schedule: str


class TickHandler:
    async def handle(self, task: Tick) -> None:
        pass


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now


@pytest.fixture
def ticks(registry: TaskRegistry) -> TaskRegistry:
    registry.register(Tick, TickHandler)
    return registry


def expected_fire_times(
    schedule: CronSchedule, start: datetime.datetime, end: datetime.datetime
) -> list[datetime.datetime]:
    times = []
    moment = schedule.next_after(start)
    while moment is not None and moment <= end:
        times.append(moment)
        moment = schedule.next_after(moment)
    return times


async def tasks_per_schedule(queue: TaskQueue) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task in await queue.admin.list(list(TaskState), limit=100_000):
        name = json.loads(task.payload)["schedule"]
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.usefixtures("ticks")
async def test_many_schedules_and_schedulers_enqueue_each_tick_once(
    backend_kind: str,
    make_backend: Callable[[str], TaskBackend],
    registry: TaskRegistry,
):
    """200 schedules driven by 4 schedulers (own connections, clocks a little apart) through
    ten simulated minutes: every tick is enqueued, none twice."""
    expressions = ["* * * * *", "*/2 * * * *", "*/5 * * * *", "*/15 * * * * *", "*/30 * * * * *"]
    schedules = [
        CronSchedule(f"s{i}", expressions[i % len(expressions)], Tick(f"s{i}")) for i in range(200)
    ]
    backends = [make_backend(backend_kind) for _ in range(4)]
    queue = TaskQueue(backends[0], registry)
    await queue.migrate()
    clocks = [Clock(START + datetime.timedelta(seconds=skew)) for skew in (0, 1, 2, 3)]
    schedulers = [
        Scheduler(backend, registry, schedules, clock=clock)
        for backend, clock in zip(backends, clocks, strict=True)
    ]
    for clock in clocks:
        clock.now = START
    await asyncio.gather(*(s.start() for s in schedulers))
    try:
        for step in range(1, 47):
            for skew, clock in enumerate(clocks):
                clock.now = START + datetime.timedelta(seconds=step * 13 - skew)
            await asyncio.gather(*(s.fire_due() for s in schedulers))
        end = START + datetime.timedelta(seconds=46 * 13)
        for clock in clocks:
            clock.now = end
        await asyncio.gather(*(s.fire_due() for s in schedulers))
        expected = {s.name: len(expected_fire_times(s, START, end)) for s in schedules}
        assert sum(expected.values()) > 2000
        assert await tasks_per_schedule(queue) == expected
        assert sum(s.fired for s in schedulers) == sum(expected.values())
    finally:
        for backend in {id(b): b for b in backends}.values():
            await backend.close()


class TestCatchUp:
    async def run_after_downtime(
        self, queue: TaskQueue, registry: TaskRegistry, schedule: CronSchedule, downtime: float
    ) -> int:
        clock = Clock(START)
        first = Scheduler(queue.backend, registry, [schedule], clock=clock)
        await first.start()
        clock.now = START + datetime.timedelta(minutes=1)
        assert await first.fire_due() == 1
        # The scheduler is down; a new one starts much later.
        clock.now += datetime.timedelta(seconds=downtime)
        second = Scheduler(queue.backend, registry, [schedule], clock=clock)
        await second.start()
        return await second.fire_due()

    @pytest.mark.usefixtures("ticks")
    async def test_latest_enqueues_the_most_recent_missed_tick(
        self, queue: TaskQueue, registry: TaskRegistry
    ):
        """catch_up="latest" (the default) enqueues one task for a whole missed period."""
        schedule = CronSchedule("minutely", "* * * * *", Tick("minutely"))
        assert await self.run_after_downtime(queue, registry, schedule, 3600) == 1

    @pytest.mark.usefixtures("ticks")
    async def test_all_enqueues_every_missed_tick_up_to_the_cap(
        self, queue: TaskQueue, registry: TaskRegistry
    ):
        """catch_up="all" enqueues each missed tick, at most max_catch_up of them."""
        schedule = CronSchedule("all", "* * * * *", Tick("all"), catch_up="all", max_catch_up=25)
        assert await self.run_after_downtime(queue, registry, schedule, 600) == 10
        schedule = CronSchedule("capped", "* * * * *", Tick("c"), catch_up="all", max_catch_up=25)
        assert await self.run_after_downtime(queue, registry, schedule, 3600) == 25

    @pytest.mark.usefixtures("ticks")
    async def test_none_skips_missed_ticks(self, queue: TaskQueue, registry: TaskRegistry):
        """catch_up="none" enqueues nothing for ticks missed by more than a minute."""
        schedule = CronSchedule("none", "*/10 * * * *", Tick("none"), catch_up="none")
        clock = Clock(START)
        scheduler = Scheduler(queue.backend, registry, [schedule], clock=clock)
        await scheduler.start()
        clock.now = START + datetime.timedelta(minutes=35)
        assert await scheduler.fire_due() == 0
        clock.now = START + datetime.timedelta(minutes=40, seconds=2)
        assert await scheduler.fire_due() == 1

    @pytest.mark.usefixtures("ticks")
    async def test_new_schedule_does_not_backfill(self, queue: TaskQueue, registry: TaskRegistry):
        """A schedule that never fired starts from the scheduler's start, not from the past."""
        clock = Clock(START)
        scheduler = Scheduler(
            queue.backend, registry, [CronSchedule("new", "* * * * *", Tick("n"))], clock=clock
        )
        await scheduler.start()
        assert await scheduler.fire_due() == 0


class TestValidation:
    def test_unregistered_task_and_duplicate_names_are_refused(self, registry: TaskRegistry):
        """A schedule's task type must be registered and schedule names must be unique."""
        schedule = CronSchedule("a", "* * * * *", Tick("a"))
        with pytest.raises(TaskRegistrationError, match="Tick is not registered"):
            Scheduler(None, registry, [schedule])  # type: ignore[arg-type]
        registry.register(Tick)
        with pytest.raises(TaskRegistrationError, match="unique"):
            Scheduler(None, registry, [schedule, schedule])  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"expression": "* *"}, "needs 5 fields"),
            ({"timezone": "Mars/Olympus"}, "unknown time zone"),
            ({"catch_up": "some"}, "catch_up must be one of"),
            ({"name": "bad name"}, "schedule name"),
        ],
    )
    def test_bad_schedules_are_refused(self, kwargs, message):
        """Bad expressions, zones, policies and names fail when the schedule is declared."""
        arguments = {"name": "ok", "expression": "* * * * *", "task": Tick("x"), **kwargs}
        with pytest.raises(ValueError, match=message):
            CronSchedule(**arguments)  # type: ignore[arg-type]


@pytest.mark.usefixtures("ticks")
async def test_worker_runs_its_schedules(queue: TaskQueue, fast, eventually):
    """A worker given schedules fires them on the real clock and runs the tasks."""
    schedule = CronSchedule("every-second", "* * * * * *", Tick("every-second"))
    worker = Worker(queue, settings=fast(), schedules=[schedule])
    async with worker.running():
        await eventually(lambda: worker.counters.succeeded >= 2, "two ticks ran")
