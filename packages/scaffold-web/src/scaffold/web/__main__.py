"""``python -m scaffold.web dev|serve package.module:app``."""

from __future__ import annotations

import argparse
import os

from ._serving import DEFAULT_HOST, DEFAULT_PORT, run_dev, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scaffold.web")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in (
        ("dev", "development server: reloads on changes, debug pages"),
        ("serve", "production server (Granian)"),
    ):
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("target", help="the app, as package.module:attribute")
        command.add_argument("--host", default=DEFAULT_HOST)
        command.add_argument("--port", type=int, default=DEFAULT_PORT)
        command.add_argument(
            "--factory", action="store_true", help="the target is a function returning the app"
        )
        if name == "dev":
            command.add_argument(
                "--no-reload",
                action="store_true",
                help="serve in this process (for IDE debuggers) without watching files",
            )
            command.add_argument("--watch", action="append", help="folders to watch (default .)")
        else:
            command.add_argument(
                "--workers",
                type=int,
                default=os.cpu_count() or 1,
                help="worker processes (default: one per CPU core)",
            )
            command.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "dev":
        run_dev(
            args.target,
            host=args.host,
            port=args.port,
            reload=not args.no_reload,
            watch=args.watch or ["."],
            factory=args.factory,
        )
    else:
        serve(
            args.target,
            host=args.host,
            port=args.port,
            workers=args.workers,
            factory=args.factory,
            access_log=args.access_log,
        )


if __name__ == "__main__":
    main()
