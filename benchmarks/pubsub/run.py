"""Pub/sub round trips and throughput: scaffold-pubsub, broadcaster and raw psycopg 3.

Measured on the same PostgreSQL and Redis servers in one run, rounds interleaved so
that background load hits every contender alike; each figure is the median of rounds.

- round trip: one message published, time until every subscriber has it; p50 and p99.
- throughput: one task publishes N messages back to back (awaiting each publish), time
  until every subscriber has all of them; messages per second, and the CPU time this
  (client) process spent per message meanwhile (the servers' CPU is not counted).
- concurrent publishers: 10 tasks of one process each publish N/10 messages back to back
  (as concurrent requests of a web app would), one subscriber; messages per second, or
  how many publishes failed when some did.
- concurrent: 50 publishes started at once from one process; how many fail.
- best: per round, the higher of a library's one-publisher and 10-publisher rates,
  counting the 10-publisher rate only when none of its publishes failed: how fast one
  process moves messages to a subscriber when it publishes the fastest way that works.
- baseline: psycopg 3 alone, one connection NOTIFYing, one LISTENing through
  `notifies()`; one subscriber (it has no fan-out of its own).
- floor: NOTIFY after NOTIFY on one blocking libpq connection (psycopg's `pgconn.exec_`,
  no event loop, nobody listening): the server round trip that bounds any client
  publishing one message at a time.

Run from the repository root:  uv run python benchmarks/pubsub/run.py [--quick | --smoke]
[--uvloop]
Servers: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) and
BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from broadcaster import Broadcast

from scaffold.pubsub import from_url

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class Contender(Protocol):
    name: str
    max_subscribers: int

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, channel: str, message: str) -> None: ...
    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Any]: ...


# Contenders --------------------------------------------------------------------------------


class Scaffold:
    max_subscribers = 10_000

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    async def start(self) -> None:
        self.pub_sub = from_url(self.url, max_buffered=100_000)

    async def stop(self) -> None:
        await self.pub_sub.aclose()

    async def publish(self, channel: str, message: str) -> None:
        await self.pub_sub.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        async with self.pub_sub.subscribe(channel) as subscription:
            yield subscription


class Broadcaster:
    max_subscribers = 10_000

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    async def start(self) -> None:
        self.broadcast = Broadcast(self.url)
        await self.broadcast.connect()

    async def stop(self) -> None:
        await self.broadcast.disconnect()

    async def publish(self, channel: str, message: str) -> None:
        await self.broadcast.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        async with self.broadcast.subscribe(channel) as subscriber:

            async def messages() -> AsyncIterator[str]:
                while True:
                    event = await subscriber.get()
                    yield event.message

            yield messages()


class RawPsycopg:
    """The floor: psycopg 3's own NOTIFY and `notifies()`, no library around them."""

    name = "raw psycopg 3"
    max_subscribers = 1

    async def start(self) -> None:
        self.sender = await psycopg.AsyncConnection.connect(DATABASE_URL, autocommit=True)
        self.listener = await psycopg.AsyncConnection.connect(DATABASE_URL, autocommit=True)

    async def stop(self) -> None:
        await self.sender.close()
        await self.listener.close()

    async def publish(self, channel: str, message: str) -> None:
        await self.sender.execute("SELECT pg_notify(%s, %s)", (channel, message))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        await self.listener.execute(f'LISTEN "{channel}"')

        async def messages() -> AsyncIterator[str]:
            async for notify in self.listener.notifies():
                yield notify.payload

        yield messages()


# Measurements ------------------------------------------------------------------------------


def publish_floor(messages: int) -> float:
    """Messages per second of bare blocking NOTIFY round trips (blocks the event loop)."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        pgconn = connection.pgconn
        for i in range(50):
            pgconn.exec_(b"NOTIFY bench_floor, '%d'" % i)
        start = time.perf_counter()
        for i in range(messages):
            result = pgconn.exec_(b"NOTIFY bench_floor, '%036d'" % i)
            if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
                raise RuntimeError(f"NOTIFY failed: {result.error_message!r}")
        return messages / (time.perf_counter() - start)


@dataclass
class Fanout:
    """Subscriber tasks count arrivals; the publisher waits for a target count."""

    target: int = 0
    count: int = 0
    done: asyncio.Future[float] | None = None

    def arrived(self, _message: str) -> None:
        self.count += 1
        if self.count == self.target and self.done is not None and not self.done.done():
            self.done.set_result(time.perf_counter())

    def expect(self, target: int) -> asyncio.Future[float]:
        self.count = 0
        self.target = target
        self.done = asyncio.get_running_loop().create_future()
        return self.done


@contextlib.asynccontextmanager
async def subscribers(
    contender: Contender, channel: str, count: int, fanout: Fanout
) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        tasks = []
        for _ in range(count):
            messages = await stack.enter_async_context(contender.subscribe(channel))

            async def consume(messages: AsyncIterator[str] = messages) -> None:
                async for message in messages:
                    fanout.arrived(message)

            tasks.append(asyncio.create_task(consume()))
        await asyncio.sleep(0.05)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def round_trips(contender: Contender, n_subscribers: int, messages: int) -> list[float]:
    channel = f"bench:{secrets.token_hex(4)}"
    fanout = Fanout()
    samples = []
    async with subscribers(contender, channel, n_subscribers, fanout):
        for i in range(messages + messages // 10):
            done = fanout.expect(n_subscribers)
            start = time.perf_counter()
            await contender.publish(channel, f"{i:036d}")
            end = await asyncio.wait_for(done, 10)
            if i >= messages // 10:  # the first tenth warms up
                samples.append(end - start)
    return samples


async def throughput(
    contender: Contender, n_subscribers: int, messages: int
) -> tuple[float, float]:
    """Messages per second, and this process's CPU seconds per message meanwhile."""
    channel = f"bench:{secrets.token_hex(4)}"
    fanout = Fanout()
    async with subscribers(contender, channel, n_subscribers, fanout):
        for i in range(50):  # warm up
            done = fanout.expect(n_subscribers)
            await contender.publish(channel, str(i))
            await asyncio.wait_for(done, 10)
        done = fanout.expect(n_subscribers * messages)
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(messages):
            await contender.publish(channel, f"{i:036d}")
        end = await asyncio.wait_for(done, 60)
        cpu = time.process_time() - cpu_start
    return messages / (end - start), cpu / messages


@dataclass
class Concurrent:
    rate: float | None
    failed: int


async def concurrent_throughput(
    contender: Contender, messages: int, publishers: int = 10
) -> Concurrent:
    channel = f"bench:{secrets.token_hex(4)}"
    fanout = Fanout()
    per_publisher = messages // publishers

    async def publish_some(start: int) -> int:
        failed = 0
        for i in range(start, start + per_publisher):
            try:
                await contender.publish(channel, f"{i:036d}")
            except Exception:  # noqa: BLE001 - counted and reported
                failed += 1
        return failed

    async with subscribers(contender, channel, 1, fanout):
        done = fanout.expect(per_publisher * publishers)
        start = time.perf_counter()
        failures = await asyncio.gather(
            *(publish_some(p * per_publisher) for p in range(publishers))
        )
        if sum(failures):
            return Concurrent(None, sum(failures))
        end = await asyncio.wait_for(done, 60)
    return Concurrent(per_publisher * publishers / (end - start), 0)


async def concurrent_failures(contender: Contender, publishes: int = 50) -> int:
    channel = f"bench:{secrets.token_hex(4)}"
    results = await asyncio.gather(
        *(contender.publish(channel, str(i)) for i in range(publishes)), return_exceptions=True
    )
    return sum(isinstance(result, BaseException) for result in results)


# Reporting ---------------------------------------------------------------------------------


@dataclass
class Figures:
    p50: dict[int, list[float]] = field(default_factory=dict)
    p99: dict[int, list[float]] = field(default_factory=dict)
    rate: dict[int, list[float]] = field(default_factory=dict)
    cpu: dict[int, list[float]] = field(default_factory=dict)
    concurrent: list[float] = field(default_factory=list)
    concurrent_failed: int = 0
    best: list[float] = field(default_factory=list)
    failures: int | None = None

    def add(self, subs: int, samples: list[float], rate: float, cpu: float) -> None:
        samples = sorted(samples)
        self.p50.setdefault(subs, []).append(samples[len(samples) // 2])
        self.p99.setdefault(subs, []).append(samples[int(len(samples) * 0.99)])
        self.rate.setdefault(subs, []).append(rate)
        self.cpu.setdefault(subs, []).append(cpu)


def median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def us(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e6:8.0f} us"


def per_second(value: float | None) -> str:
    return "-" if value is None else f"{value:9.0f}/s"


def contenders() -> list[tuple[str, list[Contender]]]:
    return [
        (
            "PostgreSQL",
            [
                RawPsycopg(),
                Scaffold("scaffold-pubsub", DATABASE_URL),
                Broadcaster("broadcaster", DATABASE_URL),
            ],
        ),
        (
            "Redis",
            [Scaffold("scaffold-pubsub", REDIS_URL), Broadcaster("broadcaster", REDIS_URL)],
        ),
    ]


async def measure_round(
    contender: Contender,
    figure: Figures,
    n_latency: dict[int, int],
    n_rate: dict[int, int],
    *,
    first: bool,
) -> None:
    await contender.start()
    try:
        for subs in (1, 100):
            if subs > contender.max_subscribers:
                continue
            samples = await round_trips(contender, subs, n_latency[subs])
            rate, cpu = await throughput(contender, subs, n_rate[subs])
            figure.add(subs, samples, rate, cpu)
        concurrent = await concurrent_throughput(contender, n_rate[1])
        figure.best.append(max(figure.rate[1][-1], concurrent.rate or 0.0))
        if concurrent.rate is None:
            figure.concurrent_failed += concurrent.failed
        else:
            figure.concurrent.append(concurrent.rate)
        if first:
            figure.failures = await concurrent_failures(contender)
    finally:
        await contender.stop()


def ratio(ours: list[float], theirs: list[float]) -> str:
    # Rounds are paired (measured back to back), so each round's ratio cancels most of
    # the background load of that moment; report their median and spread.
    ratios = sorted(a / b for a, b in zip(ours, theirs, strict=True))
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def print_table(figures: dict[tuple[str, str], Figures]) -> None:
    print()
    print(
        f"{'':12}{'contender':16}{'subs':>5}{'p50':>12}{'p99':>12}{'throughput':>13}"
        f"{'CPU/msg':>11}{'10 publishers':>26}{'50 concurrent publishes':>26}"
    )
    for (group, name), figure in figures.items():
        for subs in sorted(figure.p50):
            failed = concurrent = ""
            if subs == 1:
                failed = f"{figure.failures} of 50 failed"
                concurrent = (
                    f"{figure.concurrent_failed} publishes failed"
                    if figure.concurrent_failed
                    else per_second(median(figure.concurrent))
                )
            print(
                f"{group:12}{name:16}{subs:>5}{us(median(figure.p50[subs])):>12}"
                f"{us(median(figure.p99[subs])):>12}{per_second(median(figure.rate.get(subs))):>13}"
                f"{us(median(figure.cpu[subs])):>11}{concurrent:>26}{failed:>26}"
            )


def report(
    figures: dict[tuple[str, str], Figures],
    floor: list[float],
) -> None:
    print_table(figures)
    print("\nRatios, median of per-round ratios (range over rounds):")
    for group in ("PostgreSQL", "Redis"):
        ours, theirs = figures[group, "scaffold-pubsub"], figures[group, "broadcaster"]
        for subs in (1, 100):
            print(
                f"  {group:10} {subs:>3} subscriber(s): throughput scaffold/broadcaster "
                f"{ratio(ours.rate[subs], theirs.rate[subs])}; p50 scaffold/broadcaster "
                f"{ratio(ours.p50[subs], theirs.p50[subs])}; client CPU per message "
                f"{ratio(ours.cpu[subs], theirs.cpu[subs])}"
            )
    for group in ("PostgreSQL", "Redis"):
        ours, theirs = figures[group, "scaffold-pubsub"], figures[group, "broadcaster"]
        if theirs.concurrent_failed:
            comparison = f"broadcaster failed {theirs.concurrent_failed} publishes"
        else:
            comparison = f"{ratio(ours.concurrent, theirs.concurrent)}"
        print(f"  {group:10}  10 publishers, throughput scaffold/broadcaster: {comparison}")
    for group in ("PostgreSQL", "Redis"):
        ours, theirs = figures[group, "scaffold-pubsub"], figures[group, "broadcaster"]
        print(
            f"  {group:10}   1 subscriber, each publishing its fastest way that works: "
            f"throughput scaffold/broadcaster {ratio(ours.best, theirs.best)}"
        )
    ours, raw = figures["PostgreSQL", "scaffold-pubsub"], figures["PostgreSQL", "raw psycopg 3"]
    print(
        "  PostgreSQL   1 subscriber: p50 scaffold / raw psycopg round trip "
        f"{ratio(ours.p50[1], raw.p50[1])} (target <= 1.2x)"
    )
    theirs = figures["PostgreSQL", "broadcaster"]
    ahead = sum(a > b for a, b in zip(ours.rate[1], theirs.rate[1], strict=True))
    print(
        f"  PostgreSQL   1 subscriber: scaffold's throughput above broadcaster's in {ahead} "
        f"of {len(floor)} rounds"
    )
    print(
        f"\nPostgreSQL floor, blocking NOTIFY round trips (no listener): "
        f"{per_second(median(floor)).strip()}; with 1 subscriber, as a share of it: "
        f"scaffold-pubsub {ratio(ours.rate[1], floor)}, broadcaster {ratio(theirs.rate[1], floor)}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and messages")
    parser.add_argument(
        "--smoke", action="store_true", help="a few messages, one round: checks that it runs"
    )
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="run every contender on uvloop (the loop `scaffold serve` uses) instead of asyncio's",
    )
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    rounds = args.rounds or (1 if args.quick or args.smoke else 11)
    scale = 0.02 if args.smoke else 0.25 if args.quick else 1.0
    n_latency = {1: int(1000 * scale), 100: int(200 * scale)}
    n_rate = {1: int(3000 * scale), 100: int(1000 * scale)}
    groups = contenders()
    figures = {(group, c.name): Figures() for group, members in groups for c in members}
    floor: list[float] = []
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(
        f"Python {platform.python_version()}, psycopg {psycopg.__version__}, {loop} loop, "
        f"{rounds} round(s); latency over {n_latency} messages, "
        f"throughput over {n_rate} messages (per subscriber count)"
    )
    for round_number in range(rounds):
        floor.append(publish_floor(n_rate[1]))
        for group, members in groups:
            # Each contender takes each place in the order in turn, so none always runs
            # right after the same other one.
            shift = round_number % len(members)
            for contender in members[shift:] + members[:shift]:
                await measure_round(
                    contender,
                    figures[group, contender.name],
                    n_latency,
                    n_rate,
                    first=round_number == 0,
                )
        print(f"  round {round_number + 1}/{rounds} done", file=sys.stderr)
    report(figures, floor)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.uvloop:
        import uvloop

        uvloop.run(main(arguments))
    else:
        asyncio.run(main(arguments))
