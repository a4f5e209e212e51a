"""Message-to-reply latency of the chatbot under N concurrent websocket users.

    uv run python benchmarks/chatbot/run.py [--modes embedded,postgres] [--users 1,5,10]
        [--messages 10] [--long] [--web-processes 1] [--keep-going] [--p99-limit 1]

For each mode the real chatbot processes run, started with the helpers the browser tests use
(`apps/chatbot/tests/chatbot_processes.py`), with the offline bot and `memory://` mail:

- embedded: `chatbot run`, web + worker + scheduler in one process on SQLite;
- postgres: `chatbot migrate`, then `chatbot web` (`--web-processes`) and `chatbot worker`
  as separate processes, on a database created for the run on the local server and
  dropped at the end.

Each step of the sweep takes N fresh users. Every user signs in as a browser does (GET / for
the CSRF token and the session cookie, POST / with an email, which also queues a welcome
mail; the redirect to /messages/, whose `ws-connect` URL carries the `since` parameter) and
opens the websocket with the session cookie and an Origin header equal to the server's
origin. When all N are connected they start together; each sends `--messages` arithmetic
questions one after the other as htmx's ws-send does (JSON `{"content": "6 * 7"}`),
waiting for the bot's reply before the next. The latency of one message runs from the send
to the arrival of the frame holding the bot's reply (`message--received` with the right
answer). Reported per step: p50, p99 and max (nearest rank: below 100 samples p99 is the
maximum), replies per second over the conversing phase, messages left unanswered (a failed
sign-in or handshake, or a reply later than `--reply-timeout`), how long the N users took
to sign in and open their websockets (not part of the latency), and the CPU each server
process group, the run's PostgreSQL backends and this client used while conversing, in %
of one core, next to how busy the whole machine was, in % of all its CPUs. Two warm-up
users run first and are not counted: nothing tells when the worker process is ready, so
the first reply can wait for its start.

A mode's sweep stops after the first step whose p99 reaches `--p99-limit` or that leaves a
message unanswered, since larger N only take longer to say the same; `--keep-going` runs
them all. Everything is bounded: a time budget per mode (no step starts after it), a
timeout per step, per request and per reply, and the server processes are stopped
(SIGTERM, then SIGKILL) whatever happens.

The client runs on the same machine as the servers and the database, so the figures are
for the whole machine; on a shared one, other load shows up in them (the load average is
printed for each mode).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import math
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import httpx
import psycopg
from psycopg import sql
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "apps" / "chatbot" / "tests"))

from chatbot_processes import (  # noqa: E402 - found through the path added above
    base_environment,
    chatbot_process,
    free_port,
    migrate,
)

DEFAULT_USERS = (1, 5, 10, 15, 20, 25, 35, 50, 75, 100, 150, 200)
LONG_USERS = (*DEFAULT_USERS, 300, 400, 600, 800)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')
WS_CONNECT = re.compile(r'ws-connect="([^"]+)"')
RECEIVED = "message--received"
ERROR_NOTICE = "chat__status--error"
SIGN_IN_CONCURRENCY = 20
REQUEST_TIMEOUT = 30.0  # seconds for one HTTP request or websocket handshake


@dataclass
class SignedIn:
    email: str
    websocket_url: str
    cookie: str


@dataclass
class Step:
    users: int
    messages: int
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    notices: int = 0
    sign_in_seconds: float = 0.0
    send_seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds in the send phase

    def cpu_share(self, name: str) -> float:
        """The CPU a process used while the users conversed, in % of one core."""
        return 100 * self.cpu.get(name, 0.0) / self.send_seconds if self.send_seconds else 0.0

    def fail(self, reason: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1

    @property
    def unanswered(self) -> int:
        """Messages not sent or not answered in time (a user stops at its first failure)."""
        return self.users * self.messages - len(self.latencies)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.inf
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]

    @property
    def replies_per_second(self) -> float:
        return len(self.latencies) / self.send_seconds if self.send_seconds else 0.0

    def within(self, limit: float) -> bool:
        return not self.unanswered and self.percentile(0.99) < limit


@dataclass
class ModeResult:
    mode: str
    limit: float
    steps: list[Step] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    why_skipped: str = ""
    error: str = ""
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def largest_within(self) -> int | None:
        """The largest N such that it and every smaller N measured kept p99 under the limit."""
        best = None
        for step in self.steps:
            if not step.within(self.limit):
                break
            best = step.users
        return best


# --- one simulated browser -----------------------------------------------------------------


async def sign_in(base_url: str, email: str) -> SignedIn:
    """GET / for the CSRF token and cookie, POST / with the email, land on /messages/."""
    async with httpx.AsyncClient(
        base_url=base_url, follow_redirects=True, trust_env=False, timeout=REQUEST_TIMEOUT
    ) as client:
        home = await client.get("/")
        home.raise_for_status()
        field_html = CSRF_INPUT.search(home.text)
        token = VALUE.search(field_html.group(0)) if field_html else None
        if token is None:
            raise RuntimeError("GET / has no csrf_token field")
        page = await client.post(
            "/", data={"email": email, "csrf_token": html.unescape(token.group(1))}
        )
        page.raise_for_status()
        if page.url.path != "/messages/":
            raise RuntimeError(f"signing in ended on {page.url.path}, not /messages/")
        connect_to = WS_CONNECT.search(page.text)
        if connect_to is None:
            raise RuntimeError("the /messages/ page has no ws-connect URL")
        path = html.unescape(connect_to.group(1))
        if "since=" not in path:
            raise RuntimeError(f"the ws-connect URL {path!r} has no since parameter")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        # Quart's url_for writes a websocket route's URL in full (ws://host/...); a path
        # would do as well.
        websocket_url = urljoin("ws" + base_url.removeprefix("http") + "/", path)
        if not websocket_url.startswith("ws://"):
            raise RuntimeError(f"the ws-connect URL {path!r} is not a ws:// URL")
        return SignedIn(email, websocket_url, cookie)


async def open_websocket(base_url: str, user: SignedIn) -> ClientConnection:
    return await connect(
        user.websocket_url,
        origin=Origin(base_url),
        additional_headers={"Cookie": user.cookie},
        proxy=None,
        open_timeout=REQUEST_TIMEOUT,
        close_timeout=5,
        ping_interval=None,  # a step is short; pings would only add frames to wait through
        max_size=2**20,
    )


async def converse(
    websocket: ClientConnection, number: int, step: Step, reply_timeout: float
) -> None:
    """Send the questions one after the other; time each until its answer arrives."""
    for index in range(step.messages):
        left = 6 + (number * 7 + index) % 90
        question = f"{left} * 7"
        answer = f"{question} = {left * 7}"
        started = time.perf_counter()
        await websocket.send(json.dumps({"content": question}))
        try:
            async with asyncio.timeout(reply_timeout):
                while True:
                    frame = await websocket.recv()
                    text = frame if isinstance(frame, str) else frame.decode()
                    if RECEIVED in text and answer in text:
                        step.latencies.append(time.perf_counter() - started)
                        break
                    if ERROR_NOTICE in text:
                        step.notices += 1  # the bot is late; the queue retries: keep waiting
        except TimeoutError:
            step.fail(f"no reply within {reply_timeout:g}s")
            return
        except ConnectionClosed as closed:
            step.fail(f"websocket closed by the server ({closed.rcvd})")
            return


# --- one step of the sweep -----------------------------------------------------------------


async def run_step(running: Deployment, users: int, args: argparse.Namespace) -> Step:
    """N users sign in and connect, then converse together; CPU is counted while they do."""
    step = Step(users, args.messages)
    run_id = secrets.token_hex(4)
    gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def signed_in(number: int) -> SignedIn | None:
        async with gate:
            try:
                return await sign_in(running.url, f"bench-{run_id}-{number}@example.com")
            except (httpx.HTTPError, RuntimeError) as error:
                step.fail(f"sign-in: {type(error).__name__}")
                return None

    sockets: list[ClientConnection] = []

    async def connect_websocket(user: SignedIn) -> None:
        try:
            sockets.append(await open_websocket(running.url, user))
        except (OSError, TimeoutError, WebSocketException) as error:
            step.fail(f"websocket: {type(error).__name__}")

    try:
        async with asyncio.timeout(args.step_timeout):
            started = time.perf_counter()
            accounts = await asyncio.gather(*(signed_in(n) for n in range(users)))
            await asyncio.gather(*(connect_websocket(user) for user in accounts if user))
            step.sign_in_seconds = time.perf_counter() - started
            cpu_before = running.cpu_snapshot()
            started = time.perf_counter()
            try:
                async with asyncio.TaskGroup() as group:
                    for number, websocket in enumerate(sockets):
                        group.create_task(converse(websocket, number, step, args.reply_timeout))
            finally:
                step.send_seconds = time.perf_counter() - started
                step.cpu = {
                    name: seconds - cpu_before[name]
                    for name, seconds in running.cpu_snapshot().items()
                }
    except TimeoutError:
        step.fail(f"step over {args.step_timeout:g}s")
    finally:
        # All at once: one by one, N closing handshakes would add up.
        await asyncio.gather(*(websocket.close() for websocket in sockets))
    return step


# --- the modes -----------------------------------------------------------------------------


@dataclass
class Deployment:
    """Where the chatbot answers, and its processes by name (each leads a process group)."""

    url: str
    processes: dict[str, subprocess.Popen[bytes]]
    database: str | None = None  # PostgreSQL's backends show it in their process titles

    def cpu_snapshot(self) -> dict[str, float]:
        """CPU seconds so far: each server process group, the database's backends, this
        client, and (as "machine") the busy seconds of the whole machine's CPUs."""
        ticks = dict.fromkeys(self.processes, 0)
        ticks["postgres"] = 0
        groups = {process.pid: name for name, process in self.processes.items()}
        title = f" {self.database} ".encode() if self.database else None
        for folder in Path("/proc").glob("[0-9]*"):
            try:
                fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
                # pgrp is field 2 after the name; utime and stime are 11 and 12
                used = int(fields[11]) + int(fields[12])
                if int(fields[2]) in groups:
                    ticks[groups[int(fields[2])]] += used
                elif title and title in (folder / "cmdline").read_bytes():
                    ticks["postgres"] += used
            except (OSError, IndexError):
                continue  # the process ended meanwhile
        if title is None:
            del ticks["postgres"]
        per_second = os.sysconf("SC_CLK_TCK")
        seconds = {name: used / per_second for name, used in ticks.items()}
        seconds["client"] = time.process_time()
        seconds["machine"] = machine_busy_seconds()
        return seconds

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"`chatbot {name}` exited with {process.returncode}")


@contextlib.contextmanager
def embedded(tmp: Path) -> Iterator[Deployment]:
    port = free_port()
    env = base_environment(tmp / "data", "memory://", PORT=str(port))
    url = f"http://127.0.0.1:{port}"
    with chatbot_process(["run"], env, tmp / "run.log", url) as process:
        yield Deployment(url, {"run": process})


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"chatbot_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextlib.contextmanager
def on_postgres(tmp: Path, server_url: str, web_processes: int) -> Iterator[Deployment]:
    with fresh_database(server_url) as database_url, contextlib.ExitStack() as stack:
        env = base_environment(tmp / "data", "memory://", DATABASE_URL=database_url)
        migrate(env, tmp / "migrate.log")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        web_env = {**env, "PORT": str(port), "WEB_PROCESSES": str(web_processes)}
        web = stack.enter_context(chatbot_process(["web"], web_env, tmp / "web.log", url))
        worker = stack.enter_context(chatbot_process(["worker"], env, tmp / "worker.log"))
        yield Deployment(url, {"web": web, "worker": worker}, database_url.rsplit("/", 1)[1])


def deployment(
    mode: str, tmp: Path, args: argparse.Namespace
) -> contextlib.AbstractContextManager[Deployment]:
    if mode == "embedded":
        return embedded(tmp)
    return on_postgres(tmp, args.postgres_url, args.web_processes)


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent, summed over its CPUs (/proc/stat)."""
    with Path("/proc/stat").open() as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(
            int, stat.readline().split()[1:9]
        )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def describe(step: Step) -> str:
    problems = ", ".join(f"{count} x {reason}" for reason, count in step.failures.items())
    return (
        f"  N={step.users:<4} p50 {step.percentile(0.5) * 1000:7.1f} ms  "
        f"p99 {step.percentile(0.99) * 1000:7.1f} ms  {step.replies_per_second:7.1f} replies/s  "
        f"CPU {cpu_shares(step)}"
        + (f"  ({step.notices} bot-unavailable notices)" if step.notices else "")
        + (f"  FAILED: {problems}" if problems else "")
    )


def cpu_shares(step: Step) -> str:
    """Each process's CPU in % of one core, then the whole machine's in % of all its CPUs."""
    shares = [f"{name} {step.cpu_share(name):.0f}%" for name in step.cpu if name != "machine"]
    # Capped: the kernel's counters and our clock are not read at the same instant.
    machine = min(100.0, step.cpu_share("machine") / (os.cpu_count() or 1))
    return " ".join(shares) + f" | machine {machine:.0f}%"


def print_logs(tmp: Path) -> None:
    for log in sorted(tmp.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"  --- last lines of {log.name}:", *tail, sep="\n    ")


def warm_up(running: Deployment, args: argparse.Namespace) -> None:
    """Two users, not counted: the worker may still be starting (nothing says when it is
    ready), templates compile, pools fill, caches warm."""
    patient = {"messages": 3, "reply_timeout": 60.0, "step_timeout": max(args.step_timeout, 90.0)}
    first = asyncio.run(run_step(running, 2, argparse.Namespace(**{**vars(args), **patient})))
    print("  warm-up" + describe(first), flush=True)
    running.check_alive()
    if first.unanswered:
        raise RuntimeError("the warm-up users got no reply")


def run_steps(
    running: Deployment, args: argparse.Namespace, result: ModeResult, started: float
) -> None:
    remaining = list(args.users)
    while remaining:
        if time.monotonic() - started > args.budget:
            result.skipped, result.why_skipped = remaining, "time budget"
            return
        users = remaining.pop(0)
        step = asyncio.run(run_step(running, users, args))
        result.steps.append(step)
        print(describe(step), flush=True)
        running.check_alive()
        if not step.within(args.p99_limit) and not args.keep_going:
            result.skipped = remaining
            result.why_skipped = f"p99 reached {args.p99_limit:g}s"
            return
        time.sleep(0.5)  # let the server finish closing the step's websockets


def sweep(mode: str, args: argparse.Namespace) -> ModeResult:
    result = ModeResult(mode, args.p99_limit, load_before=os.getloadavg())
    started = time.monotonic()
    label = mode if mode == "embedded" else f"{mode} ({args.web_processes} web process(es))"
    print(f"\n{label}: starting the chatbot ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="chatbot-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            with deployment(mode, tmp, args) as running:
                print(f"  up after {time.monotonic() - started:.1f}s", flush=True)
                warm_up(running, args)
                run_steps(running, args, result, started)
                if any(step.unanswered for step in result.steps):
                    print_logs(tmp)
        except (RuntimeError, OSError, psycopg.Error) as error:
            result.error = f"{type(error).__name__}: {error}"
            print(f"  ! {mode} stopped: {result.error}", flush=True)
            print_logs(tmp)
    result.load_after = os.getloadavg()
    print(f"  ({mode} took {time.monotonic() - started:.0f}s)", flush=True)
    return result


def print_table(results: list[ModeResult], args: argparse.Namespace) -> None:
    limit = f"{args.p99_limit:g} s"
    print(f"\nmessage-to-reply latency, {args.messages} messages per user, offline bot")
    header = (
        f"{'mode':<10} {'N':>5} {'replies':>8} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'max ms':>9} {'replies/s':>10} {'unanswered':>10} {'sign-in s':>10}  "
        "CPU: process % of one core | machine % of all"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for step in result.steps:
            print(
                f"{result.mode:<10} {step.users:>5} {len(step.latencies):>8} "
                f"{step.percentile(0.5) * 1000:>9.1f} {step.percentile(0.99) * 1000:>9.1f} "
                f"{step.percentile(1.0) * 1000:>9.1f} {step.replies_per_second:>10.1f} "
                f"{step.unanswered:>10} {step.sign_in_seconds:>10.1f}  {cpu_shares(step)}"
            )
        if result.skipped:
            skipped = ", ".join(map(str, result.skipped))
            print(f"{result.mode:<10} not run: N = {skipped} ({result.why_skipped})")
    print(f"\nlargest N with p99 under {limit}:")
    for result in results:
        if result.error:
            print(f"  {result.mode:<10} unknown: the run stopped ({result.error})")
            continue
        best = result.largest_within
        tested = max((step.users for step in result.steps), default=0)
        if best is None:
            verdict = "none of the N measured"
        elif best == tested and not result.skipped:
            verdict = f"{best} (the largest N measured; try --long)"
        else:
            verdict = str(best)
        load = " / ".join(
            f"{before:.1f}->{after:.1f}"
            for before, after in zip(result.load_before, result.load_after, strict=True)
        )
        print(f"  {result.mode:<10} {verdict}   (load average 1/5/15 min: {load})")
    print(f"\nmachine: {os.cpu_count()} CPUs, shared; the client runs on it too.")


def stop_on_sigterm(signum: int, frame: object) -> None:  # noqa: ARG001 - a signal handler's signature
    raise SystemExit(128 + signum)


def user_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--users takes numbers like 1,5,10, not {text!r}"
        ) from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"--users needs positive numbers, not {text!r}")
    return tuple(sorted(set(counts)))


def modes(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = set(chosen) - {"embedded", "postgres"}
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"--modes takes embedded and/or postgres, not {text!r}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", type=modes, default=("embedded", "postgres"))
    parser.add_argument("--users", type=user_counts, help=f"default {DEFAULT_USERS}")
    parser.add_argument("--messages", type=int, help="messages per user (default 10, --long 20)")
    parser.add_argument(
        "--long", action="store_true", help=f"sweep N over {LONG_USERS}, 20 messages, longer budget"
    )
    parser.add_argument("--p99-limit", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--reply-timeout", type=float, default=10.0, help="seconds per reply")
    parser.add_argument("--step-timeout", type=float, default=45.0, help="seconds per step")
    parser.add_argument(
        "--budget", type=float, help="seconds per mode before no new step starts (default 100)"
    )
    parser.add_argument("--web-processes", type=int, default=1, help="postgres mode only")
    parser.add_argument("--keep-going", action="store_true", help="run every N, past the limit")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="server's maintenance database, where the run's database is created (default "
        "TEST_DATABASE_URL or the local server)",
    )
    args = parser.parse_args()
    if args.users is None:
        args.users = LONG_USERS if args.long else DEFAULT_USERS
    if args.messages is None:
        args.messages = 20 if args.long else 10
    if args.budget is None:
        args.budget = 600.0 if args.long else 100.0
    if args.long:
        args.step_timeout = max(args.step_timeout, 120.0)
    if args.messages < 1 or args.web_processes < 1:
        parser.error("--messages and --web-processes must be at least 1")

    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; N = "
        f"{', '.join(map(str, args.users))}; {args.messages} messages per user; "
        f"stop at p99 >= {args.p99_limit:g}s" + ("" if not args.keep_going else " (keep going)")
    )
    # SIGTERM (from `timeout`, say) would end this process without cleaning up, leaving the
    # servers (in sessions of their own) and the database behind: exit through Python instead.
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    results = [sweep(mode, args) for mode in args.modes]
    print_table(results, args)


if __name__ == "__main__":
    main()
