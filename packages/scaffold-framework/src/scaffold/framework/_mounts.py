"""The commands `scaffold` mounts from the other Scaffold packages, loaded when used.

Each mount names a public module and attribute of the package that provides the command:
either a click command itself, or a function of the package that the umbrella wraps in a
command of its own (in a `_*_commands` module here). Loading is lazy, so `scaffold --help`
stays fast and a package whose command cannot load yet leaves the others working.
Third-party packages add commands through the `scaffold.commands` entry point group.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from typing import Final

import click

from scaffold.cli import ExitCode

from ._project_config import ProjectConfigError, load_object

ENTRY_POINT_GROUP: Final = "scaffold.commands"


@dataclasses.dataclass(frozen=True)
class Mount:
    """A command of another package: where it lives and the one line `--help` shows for it."""

    name: str
    target: str  # "module:attribute": a click command
    summary: str
    distribution: str
    # Built-in mounts are listed by `--help` from `summary` without importing them (the
    # web server and Alembic take seconds to import); plugins are loaded for their help.
    listed_without_loading: bool = True

    def installed(self) -> bool:
        """Whether the distribution that provides the command is installed at all."""
        try:
            importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return False
        return True

    def help_line(self) -> str:
        return self.summary if self.installed() else f"(unavailable) {self.summary}"

    def load(self) -> click.Command:
        try:
            loaded = load_object(self.target)
        except ProjectConfigError as error:
            return unavailable(self, str(error))
        if not isinstance(loaded, click.Command):
            return unavailable(
                self, f"{self.target} is a {type(loaded).__name__}, not a click command"
            )
        return loaded


def unavailable(mount: Mount, reason: str) -> click.Command:
    """A stand-in that lists the command and, when run, says why it cannot run."""

    def explain() -> None:
        click.echo(
            f"Error: `scaffold {mount.name}` comes from {mount.distribution}, and it cannot be "
            f"loaded: {reason}",
            err=True,
        )
        raise click.exceptions.Exit(ExitCode.CONFIG)

    return click.Command(
        mount.name,
        callback=explain,
        help=f"{mount.summary} [unavailable: see `scaffold {mount.name}`]",
        short_help=f"(unavailable) {mount.summary}",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


BUILT_IN_MOUNTS: Final = (
    Mount(
        "dev",
        "scaffold.framework._web_commands:dev",
        "Run the web app for development (auto-reload).",
        "scaffold-web",
    ),
    Mount(
        "serve",
        "scaffold.framework._web_commands:serve_command",
        "Serve the web app in production (Granian).",
        "scaffold-web",
    ),
    Mount(
        "worker",
        "scaffold.framework._tasks_commands:worker",
        "Run a worker for queued tasks and cron jobs.",
        "scaffold-tasks",
    ),
    Mount(
        "tasks",
        "scaffold.framework._tasks_commands:tasks",
        "Inspect and manage the task queue.",
        "scaffold-tasks",
    ),
    Mount(
        "db",
        "scaffold.framework._db_commands:db",
        "Apply and create database migrations (Alembic).",
        "scaffold-persistence",
    ),
    Mount(
        "mail",
        "scaffold.framework._mail_commands:mail",
        "Preview the application's mail templates.",
        "scaffold-mail",
    ),
)


def plugin_mounts() -> list[Mount]:
    """Commands other distributions declare in the `scaffold.commands` entry point group."""
    return [
        Mount(
            entry.name,
            entry.value,
            f"(from {entry.dist.name if entry.dist else 'a plugin'})",
            entry.dist.name if entry.dist else "a plugin",
            listed_without_loading=False,
        )
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    ]
