"""Requests per second of one page: Scaffold vs bare Quart vs Litestar, on the same servers.

The page: one route that gets a service (injected where the framework injects) and renders
a small Jinja template. Each app runs in its own server process bound to 127.0.0.1 with
one worker; `wrk` (Debian package `wrk`) loads it over loopback. Rounds interleave the
configurations so that noise from other processes spreads evenly; the median of the rounds
is reported, then the ratios the targets are about:

- Scaffold >= 0.9x bare Quart on the same server;
- the production command (`python -m scaffold.web serve`) >= 2x Quart on Hypercorn.

    uv run python benchmarks/web/run.py [--duration 5] [--rounds 3] [--connections 32]
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


def run_wrk(port: int, duration: float, connections: int) -> tuple[float, str]:
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
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{output}")
    problems = "; ".join(
        line.strip() for line in output.splitlines() if "Non-2xx" in line or "Socket errors" in line
    )
    return float(match.group(1)), problems


def measure(framework: str, server: str, args: argparse.Namespace, env: dict[str, str]) -> float:
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
        rate, problems = run_wrk(port, args.duration, args.connections)
        if problems:
            print(f"  ! {label}: {problems}")
        return rate
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ratio_line(label: str, ratios: list[float], target: float | None) -> str:
    verdict = (
        ""
        if target is None
        else f"  (target >= {target:g}x: "
        + ("ok)" if statistics.median(ratios) >= target else "BELOW TARGET)")
    )
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


def run_rounds(
    matrix: list[tuple[str, str]], args: argparse.Namespace
) -> list[dict[tuple[str, str], float]]:
    env = environment()
    rounds: list[dict[tuple[str, str], float]] = []
    for number in range(1, args.rounds + 1):
        # Alternate the order each round so that a slow spell of the shared machine does
        # not always hit the same peer; ratios are taken within a round.
        order = matrix if number % 2 else list(reversed(matrix))
        rates: dict[tuple[str, str], float] = {}
        for framework, server in order:
            rate = rates[framework, server] = measure(framework, server, args, env)
            print(f"  round {number}: {framework:>8} on {server:<14} {rate:9.0f} req/s")
        rounds.append(rates)
    return rounds


def report(rounds: list[dict[tuple[str, str], float]], servers: set[str]) -> None:
    print("\nmedian requests per second")
    for framework, server in rounds[0]:
        rate = statistics.median(r[framework, server] for r in rounds)
        print(f"  {framework:>8} on {server:<14} {rate:9.0f}")

    def line(
        label: str, top: tuple[str, str], bottom: tuple[str, str], target: float | None
    ) -> None:
        if top in rounds[0] and bottom in rounds[0]:
            print(ratio_line(label, [r[top] / r[bottom] for r in rounds], target))

    print("\nratios (median of the per-round ratios)")
    for server in ("hypercorn", "uvicorn", "granian"):
        line(f"Scaffold / bare Quart on {server}", ("scaffold", server), ("quart", server), 0.9)
    production, baseline = ("scaffold", "scaffold serve"), ("quart", "hypercorn")
    line("production command / Quart on Hypercorn", production, baseline, 2)
    line("Quart on Granian / Quart on Hypercorn", ("quart", "granian"), baseline, None)
    line("Quart on Granian / Quart on Uvicorn", ("quart", "granian"), ("quart", "uvicorn"), None)
    for server in sorted(servers & {"uvicorn", "granian"}):
        line(f"Litestar / Scaffold on {server}", ("litestar", server), ("scaffold", server), None)


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
