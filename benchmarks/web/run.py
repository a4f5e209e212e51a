"""Requests per second of one page: Scaffold vs bare Quart vs Litestar, on the same servers.

The page: one route that gets a service (injected where the framework injects) and renders
a small Jinja template. Each app runs in its own server process bound to 127.0.0.1 with
one worker; `wrk` (Debian package `wrk`) loads it over loopback. Rounds interleave the
configurations so that noise from other processes spreads evenly; the median of the rounds
is reported, then the ratios the targets are about (met when every round meets them):

- Scaffold >= 0.9x bare Quart on the same server;
- the production command (`python -m scaffold.web serve`) >= 2x Quart on Hypercorn.

    uv run python benchmarks/web/run.py [--duration 5] [--rounds 3] [--connections 32]

`inprocess.py` beside this file measures the apps without a server (CPU instructions per
request with callgrind, or time), to see where a framework's own cost goes.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED = "Hello, world!"


@dataclass(frozen=True)
class Config:
    label: str
    framework: str
    server: str
    command: tuple[str, ...]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(server: str, target: str, port: int) -> tuple[str, ...]:
    py, host, port_text = sys.executable, "127.0.0.1", str(port)
    commands = {
        "hypercorn": ("-m", "hypercorn", "-b", f"{host}:{port}", "--log-level", "warning"),
        "uvicorn": (
            "-m",
            "uvicorn",
            "--host",
            host,
            "--port",
            port_text,
            "--log-level",
            "warning",
            "--no-access-log",
        ),
        "granian": (
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            host,
            "--port",
            port_text,
            "--workers",
            "1",
            "--log-level",
            "warning",
        ),
        "scaffold serve": (
            "-m",
            "scaffold.web",
            "serve",
            "--host",
            host,
            "--port",
            port_text,
            "--workers",
            "1",
        ),
    }
    return (py, *commands[server], target)


TARGETS = {
    "scaffold": "bench_scaffold_app:app",
    "quart": "bench_quart_app:app",
    "litestar": "bench_litestar_app:app",
}
MATRIX = [
    ("quart", "hypercorn"),
    ("scaffold", "hypercorn"),
    ("quart", "uvicorn"),
    ("scaffold", "uvicorn"),
    ("litestar", "uvicorn"),
    ("quart", "granian"),
    ("scaffold", "granian"),
    ("litestar", "granian"),
    ("scaffold", "scaffold serve"),
]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env["SCAFFOLD_ENV"] = "production"
    env["SECRET_KEY"] = secrets.token_urlsafe(48)
    env.setdefault("GRANIAN_LOG_LEVEL", "warning")
    return env


def wait_until_serving(port: int, process: subprocess.Popen[bytes], label: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{label}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                body = response.read().decode()
        except OSError:
            time.sleep(0.2)
            continue
        if EXPECTED not in body:
            raise RuntimeError(f"{label}: unexpected page: {body[:200]!r}")
        return
    raise RuntimeError(f"{label}: not serving after 30 s")


PIN = {"server": (), "wrk": ()}


@dataclass(frozen=True)
class Measurement:
    """Requests per second as wrk saw them, and requests per CPU second of the server.

    The second figure divides the requests served by the CPU time the server's processes
    used meanwhile: other work on a shared machine slows the first down but hardly moves
    the second.
    """

    rate: float
    per_cpu_second: float


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants."""
    total = 0.0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_wrk(port: int, duration: float, connections: int) -> tuple[float, int, str]:
    output = subprocess.run(  # noqa: S603 - our own command line
        [
            *PIN["wrk"],
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if match is None or count is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{output}")
    problems = "; ".join(
        line.strip() for line in output.splitlines() if "Non-2xx" in line or "Socket errors" in line
    )
    return float(match.group(1)), int(count.group(1)), problems


def measure(
    framework: str, server: str, args: argparse.Namespace, env: dict[str, str]
) -> Measurement:
    port = free_port()
    label = f"{framework} on {server}"
    process = subprocess.Popen(  # noqa: S603 - our own command line
        (*PIN["server"], *server_command(server, TARGETS[framework], port)),
        cwd=HERE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_serving(port, process, label)
        run_wrk(port, 1, args.connections)  # warm-up
        cpu_before = cpu_seconds(process.pid)
        rate, requests, problems = run_wrk(port, args.duration, args.connections)
        cpu = cpu_seconds(process.pid) - cpu_before
        if problems:
            print(f"  ! {label}: {problems}")
        return Measurement(rate, requests / cpu if cpu > 0 else float("nan"))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ratio_line(label: str, ratios: list[float], target: float | None) -> str:
    """The median ratio, a verdict on the target, and every round's ratio.

    A target counts as met only when every round meets it: a median above it with a
    round below is reported as such.
    """
    if target is None:
        verdict = ""
    elif min(ratios) >= target:
        verdict = f"  (target >= {target:g}x: ok in every round)"
    elif statistics.median(ratios) >= target:
        verdict = f"  (target >= {target:g}x: NOT IN EVERY ROUND)"
    else:
        verdict = f"  (target >= {target:g}x: BELOW TARGET)"
    spread = ", ".join(f"{r:.2f}" for r in ratios)
    return f"  {label:<42} {statistics.median(ratios):5.2f}x{verdict}   rounds: {spread}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--servers",
        default="hypercorn,uvicorn,granian,scaffold serve",
        help="comma-separated subset of the servers to measure",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the server to CPU 1 and wrk to CPU 0 (taskset), for steadier figures",
    )
    return parser.parse_args()


type Rounds = list[dict[tuple[str, str], Measurement]]


def run_rounds(matrix: list[tuple[str, str]], args: argparse.Namespace) -> Rounds:
    env = environment()
    rounds: Rounds = []
    for number in range(1, args.rounds + 1):
        # Alternate the order each round so that a slow spell of the shared machine does
        # not always hit the same peer; ratios are taken within a round.
        order = matrix if number % 2 else list(reversed(matrix))
        results: dict[tuple[str, str], Measurement] = {}
        for framework, server in order:
            m = results[framework, server] = measure(framework, server, args, env)
            print(
                f"  round {number}: {framework:>8} on {server:<14} {m.rate:9.0f} req/s"
                f" {m.per_cpu_second:9.0f} req/CPU-s"
            )
        rounds.append(results)
    return rounds


def report(rounds: Rounds, servers: set[str]) -> None:
    print("\nmedians                      req/s   req/CPU-s")
    for framework, server in rounds[0]:
        rate = statistics.median(r[framework, server].rate for r in rounds)
        per_cpu = statistics.median(r[framework, server].per_cpu_second for r in rounds)
        print(f"  {framework:>8} on {server:<14} {rate:9.0f} {per_cpu:9.0f}")
    for title, metric in (
        ("requests per second", lambda m: m.rate),
        ("requests per CPU second of the server", lambda m: m.per_cpu_second),
    ):

        def line(
            label: str,
            top: tuple[str, str],
            bottom: tuple[str, str],
            target: float | None,
            metric: Callable[[Measurement], float] = metric,
        ) -> None:
            if top in rounds[0] and bottom in rounds[0]:
                ratios = [metric(r[top]) / metric(r[bottom]) for r in rounds]
                print(ratio_line(label, ratios, target))

        print(f"\nratios of {title} (median of the per-round ratios)")
        for server in ("hypercorn", "uvicorn", "granian"):
            line(f"Scaffold / bare Quart on {server}", ("scaffold", server), ("quart", server), 0.9)
        production, baseline = ("scaffold", "scaffold serve"), ("quart", "hypercorn")
        line("production command / Quart on Hypercorn", production, baseline, 2)
        line("Quart on Granian / Quart on Hypercorn", ("quart", "granian"), baseline, None)
        uvicorn = ("quart", "uvicorn")
        line("Quart on Granian / Quart on Uvicorn", ("quart", "granian"), uvicorn, None)
        for server in sorted(servers & {"uvicorn", "granian"}):
            scaffold = ("scaffold", server)
            line(f"Litestar / Scaffold on {server}", ("litestar", server), scaffold, None)


def main() -> None:
    args = parse_args()
    if args.pin:
        PIN["server"] = ("taskset", "-c", "1")
        PIN["wrk"] = ("taskset", "-c", "0")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    servers = set(args.servers.split(","))
    matrix = [(framework, server) for framework, server in MATRIX if server in servers]
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} rounds, "
        f"one worker per server, {os.cpu_count()} CPUs"
        + (", server pinned to CPU 1 and wrk to CPU 0" if args.pin else " shared with wrk")
    )
    report(run_rounds(matrix, args), servers)


if __name__ == "__main__":
    main()
