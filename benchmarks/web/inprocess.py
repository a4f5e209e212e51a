"""The benchmark page served in-process, without a server: the app's own cost per request.

Each peer's ASGI app (see run.py) gets its lifespan start-up, then `GET /` N times through
``app(scope, receive, send)`` on one event loop, the way a server would call it (the
request body arrives at once, the disconnect after the response). No sockets, no HTTP
parsing: what remains is the framework's work, so the difference between two peers is
the per-request overhead of one over the other.

    uv run python benchmarks/web/inprocess.py time [--requests 5000]
    uv run python benchmarks/web/inprocess.py callgrind [--requests 2000]
    uv run python benchmarks/web/inprocess.py profile scaffold [--requests 2000]

`callgrind` counts the CPU instructions (valgrind's callgrind, Debian package
`valgrind`) of two runs of each app, with N and 2N requests, and divides the difference
by N: start-up and imports cancel out, and instruction counts do not depend on what else
the machine is doing, unlike wall-clock time. `time` reports wall-clock microseconds per
request (best of a few batches); `profile` lists the Python functions by own time
(cProfile), with their call counts per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import os
import pstats
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
APPS = {
    "quart": "bench_quart_app",
    "scaffold": "bench_scaffold_app",
    "litestar": "bench_litestar_app",
}
EXPECTED = b"Hello, world!"

_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"wrk"),
        (b"accept", b"*/*"),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
    "extensions": {},
}


def load(name: str) -> Any:
    os.environ["SCAFFOLD_ENV"] = "production"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return importlib.import_module(APPS[name]).app


class _Lifespan:
    """Runs the app's lifespan protocol: start-up now, shutdown on `stop()`."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        self._task = asyncio.ensure_future(self._app(scope, self._inbox.get, self._outbox.put))
        await self._inbox.put({"type": "lifespan.startup"})
        message = await self._outbox.get()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"start-up failed: {message}")

    async def stop(self) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._outbox.get()
        assert self._task is not None
        await self._task


async def one_request(app: Any) -> bytes:
    done = asyncio.Event()
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(dict(_SCOPE), receive, send)
    start = sent[0]
    if start["status"] != 200:
        raise RuntimeError(f"status {start['status']}")
    body = b"".join(m.get("body", b"") for m in sent[1:])
    if EXPECTED not in body:
        raise RuntimeError(f"unexpected page: {body[:200]!r}")
    return body


async def _requests(app: Any, count: int, concurrency: int) -> None:
    """`count` requests, `concurrency` of them in flight at a time (as wrk's connections)."""

    async def client(share: int) -> None:
        for _ in range(share):
            await one_request(app)

    shares = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
    await asyncio.gather(*(client(share) for share in shares))


async def serve_requests(
    app: Any,
    count: int,
    *,
    concurrency: int = 1,
    batches: int = 1,
) -> list[float]:
    """Start the app, serve `count` requests `batches` times; seconds of each batch."""
    lifespan = _Lifespan(app)
    await lifespan.start()
    await one_request(app)  # the first request compiles the template, fills caches
    times = []
    for _ in range(batches):
        started = time.perf_counter()
        await _requests(app, count, concurrency)
        times.append(time.perf_counter() - started)
    await lifespan.stop()
    return times


def command_serve(args: argparse.Namespace) -> None:
    """The body of one callgrind run: serve the requests and exit."""
    asyncio.run(serve_requests(load(args.app), args.requests, concurrency=args.concurrency))


def command_time(args: argparse.Namespace) -> None:
    for name in args.apps:
        app = load(name)
        times = asyncio.run(
            serve_requests(app, args.requests, concurrency=args.concurrency, batches=5)
        )
        best = min(times) / args.requests * 1e6
        print(f"{name:>9}: {best:7.1f} us per request (best of 5 batches of {args.requests})")


def _instructions(valgrind: str, name: str, count: int, concurrency: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        subprocess.run(  # noqa: S603 - our own command line
            [
                valgrind,
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "serve",
                name,
                "--requests",
                str(count),
                "--concurrency",
                str(concurrency),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        match = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
        if match is None:
            raise RuntimeError("no summary line in callgrind's output")
        return int(match.group(1))


def command_callgrind(args: argparse.Namespace) -> None:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("valgrind is missing: apt-get install -y valgrind")
    n = args.requests
    per_request = {}
    for name in args.apps:
        short = _instructions(valgrind, name, n, args.concurrency)
        long = _instructions(valgrind, name, 2 * n, args.concurrency)
        per_request[name] = (long - short) / n
        print(f"{name:>9}: {per_request[name]:12,.0f} instructions per request")
    if "quart" in per_request:
        for name, value in per_request.items():
            if name != "quart":
                print(f"{name:>9} / quart: {value / per_request['quart']:.3f}")


def command_profile(args: argparse.Namespace) -> None:
    app = load(args.app)
    profiler = cProfile.Profile()

    async def main() -> None:
        lifespan = _Lifespan(app)
        await lifespan.start()
        await one_request(app)
        profiler.enable()
        await _requests(app, args.requests, args.concurrency)
        profiler.disable()
        await lifespan.stop()

    asyncio.run(main())
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, function), (_, calls, own, total, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = re.sub(r".*/(site-packages|src)/", "", filename)
        rows.append((own, total, calls, f"{short}:{line}({function})"))
    rows.sort(reverse=True)
    print(f"{'own us/req':>10} {'cum us/req':>10} {'calls/req':>9}  function")
    for own, total, calls, where in rows[: args.top]:
        n = args.requests
        print(f"{own / n * 1e6:10.2f} {total / n * 1e6:10.2f} {calls / n:9.2f}  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the requests and exit (for callgrind)")
    serve.add_argument("app", choices=APPS)
    serve.add_argument("--requests", type=int, default=2000)
    for name in ("time", "callgrind"):
        sub = commands.add_parser(name)
        sub.add_argument("apps", nargs="*", default=["quart", "scaffold"], help=", ".join(APPS))
        sub.add_argument("--requests", type=int, default=5000 if name == "time" else 1000)
    profile = commands.add_parser("profile")
    profile.add_argument("app", choices=APPS)
    profile.add_argument("--requests", type=int, default=2000)
    profile.add_argument("--top", type=int, default=40)
    for sub in commands.choices.values():
        sub.add_argument(
            "--concurrency", type=int, default=1, help="requests in flight at a time (default 1)"
        )
    args = parser.parse_args()
    unknown = set(getattr(args, "apps", ())) - set(APPS)
    if unknown:
        parser.error(f"unknown apps: {', '.join(sorted(unknown))}")
    {
        "serve": command_serve,
        "time": command_time,
        "callgrind": command_callgrind,
        "profile": command_profile,
    }[args.command](args)


if __name__ == "__main__":
    main()
