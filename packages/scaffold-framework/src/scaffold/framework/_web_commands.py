"""`scaffold dev` and `scaffold serve`: scaffold-web's servers, for the project's web app."""

from __future__ import annotations

import os

import click

from scaffold.cli import CommandError, ExitCode, command
from scaffold.web import run_dev, serve

from ._project_config import ProjectConfigError, find_project

_TARGET_HELP = (
    "The app as module:attribute; by default `web` of [tool.scaffold] in pyproject.toml"
    " (a function building the app)."
)


def _target(target: str | None) -> tuple[str, bool]:
    """The app to serve and whether it is a factory: the argument, else the project's."""
    if target is not None:
        return target, False
    try:
        return find_project().require("web"), True
    except ProjectConfigError as error:
        raise CommandError(str(error), exit_code=ExitCode.CONFIG) from error


@command("dev", short_help="Run the web app for development (auto-reload).")
@click.argument("target", required=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Restart on file changes; --no-reload serves in this process, for IDE debuggers.",
)
@click.option("--watch", multiple=True, help="Folder to watch (repeatable; default: .).")
@click.option("--factory", is_flag=True, help="TARGET is a function that builds the app.")
def dev(  # click passes everything by name
    *,
    target: str | None,
    host: str,
    port: int,
    reload: bool,
    watch: tuple[str, ...],
    factory: bool,
) -> None:
    """Run the web app for development: reloads on changes, debug pages.

    TARGET is the app as module:attribute; by default `web` of [tool.scaffold].
    """
    app, is_factory = _target(target)
    run_dev(
        app,
        host=host,
        port=port,
        reload=reload,
        watch=list(watch) or ["."],
        factory=factory or is_factory,
    )


@command("serve", short_help="Serve the web app in production (Granian).")
@click.argument("target", required=False)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server in a container listens on all interfaces
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="one per CPU core",
)
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.option("--factory", is_flag=True, help="TARGET is a function that builds the app.")
def serve_command(  # click passes everything by name
    *,
    target: str | None,
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    factory: bool,
) -> None:
    """Serve the web app in production with Granian, one process per worker.

    TARGET is the app as module:attribute; by default `web` of [tool.scaffold].
    """
    app, is_factory = _target(target)
    serve(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=factory or is_factory,
        access_log=access_log,
    )
