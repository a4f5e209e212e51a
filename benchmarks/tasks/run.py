"""scaffold-tasks against procrastinate and pgqueuer on the same PostgreSQL, in one run.

    uv run python benchmarks/tasks/run.py [--tasks 5000] [--rounds 3] [--samples 200]
                                          [--only NAME ...]

On one database created for the run (and dropped at the end), for every library:

1. enqueue N no-op tasks one at a time (one transaction each), in ten slices that take
   turns between the libraries; then empty the queue;
2. enqueue N no-op tasks in one batch call (once to warm up, then five times, taking
   turns; the median);
3. start one worker process per library; in rounds that take turns between the
   libraries, enqueue a batch of N and let that library's worker drain it: the worker
   reports the time from the first task starting to the N-th finishing (the median of
   the rounds is reported);
4. with the workers idle, enqueue single tasks (taking turns) and measure the pickup
   latency: from `enqueue` returning (the task is committed) to the handler starting
   (both processes read the same monotonic clock).

Between measurements every library's queue table is emptied with TRUNCATE, so that each
batch lands in the same state of table and indexes, and the objects made at set-up are
frozen out of the garbage collector (the three libraries share the enqueueing process).
Taking turns spreads the load of other processes on a shared machine over all the
libraries alike; the ratios within one run are what count. Each library runs with the
settings that gave it its best throughput here (listed in the output).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import procrastinate
import psycopg
from pgqueuer import AsyncpgDriver, PgQueuer, Queries
from psycopg import sql

from scaffold.tasks import PostgresBackend, Task, TaskQueue, TaskRegistry, Worker, WorkerSettings

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HERE = str(Path(__file__).resolve())


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(SERVER_URL)._replace(path=f"/{name}"))


# ---------------------------------------------------------------------------------------
# The three libraries, each behind the same small interface.
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Peer:
    name: str
    settings: str
    setup: Callable[[str], Awaitable[None]]
    enqueue_one: Callable[[int], Awaitable[None]]
    enqueue_batch: Callable[[int], Awaitable[None]]
    clear: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Noop(Task, name="noop"):
    seq: int


def scaffold_peer() -> Peer:
    state: dict[str, Any] = {}

    async def setup(url: str) -> None:
        state["url"] = url
        registry = TaskRegistry()
        registry.register(Noop)
        queue = TaskQueue(PostgresBackend(url, schema="bench_scaffold"), registry)
        await queue.migrate()
        state["queue"] = queue

    async def enqueue_one(seq: int) -> None:
        await state["queue"].enqueue(Noop(seq))

    async def enqueue_batch(n: int) -> None:
        await state["queue"].enqueue_many([Noop(i) for i in range(n)])

    async def clear() -> None:
        async with await psycopg.AsyncConnection.connect(state["url"], autocommit=True) as c:
            await c.execute("TRUNCATE bench_scaffold.scaffold_tasks")

    async def close() -> None:
        await state["queue"].close()

    return Peer(
        "scaffold-tasks",
        "psycopg; concurrency 200, claim batch 500",
        setup,
        enqueue_one,
        enqueue_batch,
        clear,
        close,
    )


def procrastinate_peer() -> Peer:
    state: dict[str, Any] = {}

    async def setup(url: str) -> None:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

        @app.task(name="noop")
        async def noop(seq: int) -> None:
            pass

        await app.open_async()
        await app.schema_manager.apply_schema_async()
        state["app"], state["task"] = app, noop

    async def enqueue_one(seq: int) -> None:
        await state["task"].defer_async(seq=seq)

    async def enqueue_batch(n: int) -> None:
        await state["task"].batch_defer_async(*({"seq": i} for i in range(n)))

    async def clear() -> None:
        async with await psycopg.AsyncConnection.connect(state["url"], autocommit=True) as c:
            await c.execute("TRUNCATE procrastinate_jobs CASCADE")

    async def close() -> None:
        await state["app"].close_async()

    async def setup_with_url(url: str) -> None:
        state["url"] = url
        await setup(url)

    return Peer(
        "procrastinate",
        "psycopg; concurrency 10",
        setup_with_url,
        enqueue_one,
        enqueue_batch,
        clear,
        close,
    )


def pgqueuer_peer() -> Peer:
    state: dict[str, Any] = {}

    async def setup(url: str) -> None:
        conn = await asyncpg.connect(url)
        queries = Queries(AsyncpgDriver(conn))
        await queries.install()
        state["conn"], state["queries"] = conn, queries

    async def enqueue_one(seq: int) -> None:
        await state["queries"].enqueue("noop", str(seq).encode())

    async def enqueue_batch(n: int) -> None:
        await state["queries"].enqueue(["noop"] * n, [str(i).encode() for i in range(n)], [0] * n)

    async def clear() -> None:
        await state["queries"].clear_queue()  # TRUNCATE of its queue table

    async def close() -> None:
        await state["conn"].close()

    return Peer(
        "pgqueuer",
        "asyncpg; batch 500",
        setup,
        enqueue_one,
        enqueue_batch,
        clear,
        close,
    )


PEERS: dict[str, Callable[[], Peer]] = {
    "scaffold-tasks": scaffold_peer,
    "procrastinate": procrastinate_peer,
    "pgqueuer": pgqueuer_peer,
}


# ---------------------------------------------------------------------------------------
# Worker processes: each prints "ready"; "drained <seconds>" each time it has run another
# N drain tasks (seconds from the first of them starting to the last finishing); and
# "start <seq> <monotonic>" when a latency probe (seq >= PROBE) starts.
# ---------------------------------------------------------------------------------------

PROBE = 1_000_000


class Recorder:
    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0
        self.first = 0.0

    def task_started(self, seq: int) -> None:
        now = time.monotonic()
        if seq >= PROBE:
            print(f"start {seq} {now}", flush=True)
            return
        self.seen += 1
        if self.seen % self.count == 1 or self.count == 1:
            self.first = now

    def task_finished(self, seq: int) -> None:
        if seq < PROBE and self.seen % self.count == 0:
            print(f"drained {time.monotonic() - self.first}", flush=True)


async def scaffold_worker(url: str, count: int) -> None:
    recorder = Recorder(count)

    class NoopHandler:
        async def handle(self, task: Noop) -> None:
            recorder.task_started(task.seq)
            recorder.task_finished(task.seq)

    registry = TaskRegistry()
    registry.register(Noop, NoopHandler)
    queue = TaskQueue(PostgresBackend(url, schema="bench_scaffold"), registry)
    worker = Worker(queue, settings=WorkerSettings(concurrency=200, batch_size=500))
    print("ready", flush=True)
    await worker.run()


async def procrastinate_worker(url: str, count: int) -> None:
    recorder = Recorder(count)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="noop")
    async def noop(seq: int) -> None:
        recorder.task_started(seq)
        recorder.task_finished(seq)

    async with app.open_async():
        print("ready", flush=True)
        await app.run_worker_async(concurrency=10, install_signal_handlers=True)


async def pgqueuer_worker(url: str, count: int) -> None:
    recorder = Recorder(count)
    conn = await asyncpg.connect(url)
    pgq = PgQueuer(AsyncpgDriver(conn))

    @pgq.entrypoint("noop")
    async def noop(job: object) -> None:
        seq = int(job.payload)
        recorder.task_started(seq)
        recorder.task_finished(seq)

    print("ready", flush=True)
    await pgq.qm.run(batch_size=500)


WORKERS = {
    "scaffold-tasks": scaffold_worker,
    "procrastinate": procrastinate_worker,
    "pgqueuer": pgqueuer_worker,
}


# ---------------------------------------------------------------------------------------
# The measurements.
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    name: str
    settings: str
    enqueue_one: float = 0.0
    enqueue_batch: float = 0.0
    processing: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p90_ms: float = 0.0


async def read_line(proc: asyncio.subprocess.Process, prefix: str, seconds: float) -> str:
    assert proc.stdout is not None
    async with asyncio.timeout(seconds):
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                raise RuntimeError(f"worker exited before printing {prefix!r}")
            line = raw.decode().strip()
            if line.startswith(prefix):
                return line


async def enqueue_rates(peers: list[Peer], results: list[Result], tasks: int) -> None:
    """Both enqueue measurements, interleaved across libraries so that load from other
    processes on the machine falls on all of them alike."""
    rounds = 10
    spent = [0.0] * len(peers)
    for r in range(rounds):
        for i, peer in enumerate(peers):
            started = time.perf_counter()
            for seq in range(r * tasks // rounds, (r + 1) * tasks // rounds):
                await peer.enqueue_one(seq)
            spent[i] += time.perf_counter() - started
    for i, peer in enumerate(peers):
        results[i].enqueue_one = tasks / spent[i]
        await peer.clear()
    for peer in peers:  # a first, unmeasured batch: connections, caches and plans warm up
        await peer.enqueue_batch(tasks)
        await peer.clear()
    batch_times: list[list[float]] = [[] for _ in peers]
    for _ in range(5):
        for i, peer in enumerate(peers):
            started = time.perf_counter()
            await peer.enqueue_batch(tasks)
            batch_times[i].append(time.perf_counter() - started)
            await peer.clear()
    for i in range(len(peers)):
        results[i].enqueue_batch = tasks / statistics.median(batch_times[i])


async def start_worker(name: str, url: str, tasks: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, HERE, "--worker", name, "--url", url, "--tasks", str(tasks),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await read_line(proc, "ready", 60)
    return proc


async def stop_worker(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        async with asyncio.timeout(20):
            await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def processing_and_latency(
    peers: list[Peer], results: list[Result], url: str, *, tasks: int, samples: int, rounds: int
) -> None:
    """One idle worker process per library; then, in rounds that alternate between the
    libraries, a batch of `tasks` to drain, and pickup-latency probes."""
    workers = [await start_worker(peer.name, url, tasks) for peer in peers]
    try:
        rates: list[list[float]] = [[] for _ in peers]
        for round_ in range(rounds):
            for i, peer in enumerate(peers):
                print(f"  round {round_ + 1}: draining with a {peer.name} worker", flush=True)
                await peer.enqueue_batch(tasks)
                line = await read_line(workers[i], "drained", 900)
                rates[i].append(tasks / float(line.split()[1]))
        await asyncio.sleep(0.5)  # every worker is idle now
        latencies: list[list[float]] = [[] for _ in peers]
        for probe in range(samples):
            for i, peer in enumerate(peers):
                await peer.enqueue_one(PROBE + probe)
                committed = time.monotonic()
                line = await read_line(workers[i], "start", 30)
                latencies[i].append(float(line.split()[2]) - committed)
                await asyncio.sleep(0.01)
        for i, result in enumerate(results):
            result.processing = statistics.median(rates[i])
            ordered = sorted(latencies[i])
            result.latency_p50_ms = statistics.median(ordered) * 1000
            result.latency_p90_ms = ordered[int(len(ordered) * 0.9)] * 1000
    finally:
        for proc in workers:
            await stop_worker(proc)


async def measure(
    names: list[str], url: str, tasks: int, samples: int, rounds: int
) -> list[Result]:
    peers = [PEERS[name]() for name in names]
    results = [Result(p.name, p.settings) for p in peers]
    for peer in peers:
        await peer.setup(url)
    # All three libraries live in this process: freeze what set-up made, so that a full
    # garbage collection falling into one library's measurement does not walk the
    # others' objects (it cost whichever library happened to trigger it tens of ms).
    gc.collect()
    gc.freeze()
    try:
        print("enqueueing ...", flush=True)
        await enqueue_rates(peers, results, tasks)
        print("processing ...", flush=True)
        await processing_and_latency(
            peers, results, url, tasks=tasks, samples=samples, rounds=rounds
        )
    finally:
        for peer in peers:
            await peer.close()
    return results


def report(results: list[Result], tasks: int) -> None:
    print(
        f"\n{tasks} no-op tasks, one worker process per library; processing is the median "
        "of the rounds; higher is better except latency\n"
    )
    header = f"{'library':16} {'enqueue 1-by-1/s':>17} {'enqueue batch/s':>16} "
    header += f"{'processing/s':>13} {'pickup p50 ms':>14} {'p90 ms':>7}  settings"
    print(header)
    for r in results:
        print(
            f"{r.name:16} {r.enqueue_one:17,.0f} {r.enqueue_batch:16,.0f} {r.processing:13,.0f} "
            f"{r.latency_p50_ms:14.2f} {r.latency_p90_ms:7.2f}  {r.settings}"
        )
    ours = next((r for r in results if r.name == "scaffold-tasks"), None)
    peers = [r for r in results if r.name != "scaffold-tasks"]
    if ours and peers:
        print("\nscaffold-tasks relative to the best peer in this run:")
        for label, attr in [
            ("enqueue one at a time", "enqueue_one"),
            ("enqueue batch", "enqueue_batch"),
            ("processing", "processing"),
        ]:
            best = max(peers, key=lambda r: getattr(r, attr))
            ratio = getattr(ours, attr) / getattr(best, attr)
            print(f"  {label:22} {ratio:5.2f}x  (best peer: {best.name})")
        best_latency = min(peers, key=lambda r: r.latency_p50_ms)
        print(
            f"  {'pickup latency p50':22} {ours.latency_p50_ms:5.2f} ms "
            f"(best peer: {best_latency.name}, {best_latency.latency_p50_ms:.2f} ms)"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="drains per library")
    parser.add_argument("--only", nargs="*", choices=list(PEERS), default=list(PEERS))
    parser.add_argument("--worker", choices=list(WORKERS))
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.worker:
        await WORKERS[args.worker](args.url, args.tasks)
        return
    name = f"scaffold_bench_tasks_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        results = await measure(
            args.only, database_url(name), args.tasks, args.samples, args.rounds
        )
        report(results, args.tasks)
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


if __name__ == "__main__":
    asyncio.run(main())
