"""Serving an app: the production command on Granian, the development server on Hypercorn.

Production runs Granian (a Rust HTTP server speaking ASGI): on the benchmark in
benchmarks/web it serves the same Quart app at 1.8 to 2.0 times the rate of Hypercorn,
and the Scaffold page at 2.2 to 2.4 times Quart's on Hypercorn. Its settings were chosen
by measuring that page with one worker: the uvloop event loop (installed with
scaffold-web) served 14% more than asyncio's; Granian's runtime mode (single- or
multi-threaded), HTTP/1-only mode and backpressure limit made no difference beyond the
noise, so Granian's defaults stay.

Development runs Hypercorn inside this Python process, so an IDE debugger's breakpoints
work, and restarts it in a fresh process whenever a watched file changes.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

logger = logging.getLogger("scaffold.web")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def load_app(target: str, *, factory: bool = False) -> Any:  # noqa: ANN401 - any ASGI app
    """Import ``"package.module:attribute"`` (calling it when `factory`)."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"an app target looks like 'package.module:app', got {target!r}")
    # Like `python -m`, find the app's package in the working directory.
    cwd = str(Path.cwd())
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)
    module = importlib.import_module(module_name)
    try:
        app = getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no attribute {attribute!r}") from None
    if factory:
        app = app()
    if not callable(app):
        raise TypeError(f"{target} is {app!r}, not an ASGI app")
    return app


def serve(
    target: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = 1,
    factory: bool = False,
    access_log: bool = False,
) -> None:
    """The production server: Granian running `target`'s ASGI app in `workers` processes.

    Run one worker per CPU core the app may use. Websockets and the app's lifespan
    (start-up validation, shutdown) are served.
    """
    from granian import Granian  # noqa: PLC0415 - import the server only when serving
    from granian.constants import Interfaces, Loops  # noqa: PLC0415

    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    Granian(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=factory,
        websockets=True,
        # uvloop by name: Granian's "auto" would take any other loop that is installed.
        loop=Loops.uvloop if importlib.util.find_spec("uvloop") else Loops.auto,
        log_access=access_log,
    ).serve()


def run_dev(
    target: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    reload: bool = True,
    watch: Sequence[str | Path] = (".",),
    factory: bool = False,
) -> None:
    """The development server, with SCAFFOLD_ENV=development unless set otherwise.

    With `reload`, the app runs in a child process restarted whenever a file below
    `watch` changes. Without it, the app runs in this very process: start it that way
    from an IDE to stop at breakpoints.
    """
    if not os.environ.get("SCAFFOLD_ENV"):
        os.environ["SCAFFOLD_ENV"] = "development"
    if not reload:
        serve_in_process(target, host, port, factory)
        return
    import watchfiles  # noqa: PLC0415 - development only

    logger.info("watching %s for changes", ", ".join(str(path) for path in watch))
    watchfiles.run_process(
        *watch,
        target=serve_in_process,
        args=(target, host, port, factory),
        callback=_report_changes,
        watch_filter=_source_filter(),
    )


def _source_filter() -> Callable[[Any, str], bool]:
    """Watchfiles' default filter, also ignoring what the running app itself writes."""
    import watchfiles  # noqa: PLC0415 - development only

    data_dir = Path(os.environ.get("SCAFFOLD_DATA_DIR") or "data").resolve()
    default = watchfiles.DefaultFilter()

    def accept(change: Any, path: str) -> bool:  # noqa: ANN401 - watchfiles' Change enum
        resolved = Path(path).resolve()
        if resolved.suffix in {".log", ".sqlite", ".sqlite3", ".db", ".db-journal"}:
            return False
        if resolved == data_dir or data_dir in resolved.parents:
            return False
        return default(change, path)

    return accept


def _report_changes(changes: set[tuple[Any, str]]) -> None:
    names = sorted({Path(path).name for _, path in changes})
    logger.info("restarting: %s changed", ", ".join(names[:5]))


def serve_in_process(target: str, host: str, port: int, factory: bool) -> None:  # noqa: FBT001 - called positionally by watchfiles
    """Serve `target` with Hypercorn in this process until SIGINT or SIGTERM."""
    from hypercorn.asyncio import serve as hypercorn_serve  # noqa: PLC0415
    from hypercorn.config import Config  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = load_app(target, factory=factory)
    if hasattr(app, "debug") and os.environ.get("SCAFFOLD_ENV") == "development":
        app.debug = True  # tracebacks in the browser
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = "-"
    config.errorlog = "-"

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)

    asyncio.run(main())
