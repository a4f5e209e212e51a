"""The `scaffold` command: project generation, and the commands of every Scaffold package."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from scaffold.cli import CliApp, CommandError, ExitCode
from scaffold.di import Container

from ._mounts import BUILT_IN_MOUNTS, Mount, plugin_mounts
from ._project import framework_version
from ._project_commands import new, template, update
from ._project_config import ProjectConfigError, find_project, load_object


def project_container() -> Container:
    """The current project's container, from `container` of [tool.scaffold].

    Built only when a command asks for a service, so `scaffold new` and the mounted
    commands run anywhere.
    """
    try:
        factory = load_object(find_project().require("container"))
    except ProjectConfigError as error:
        raise CommandError(str(error), exit_code=ExitCode.CONFIG) from error
    built = factory() if callable(factory) else factory
    if not isinstance(built, Container):
        raise CommandError(
            f"`container` of [tool.scaffold] gave {type(built).__name__}, not a Container",
            exit_code=ExitCode.CONFIG,
        )
    return built


if TYPE_CHECKING:
    from collections.abc import Sequence


class ScaffoldCommand(CliApp):
    """The root group: its own commands, then the mounted ones, loaded on first use."""

    def __init__(self, mounts: Sequence[Mount]) -> None:
        super().__init__(
            "scaffold",
            help="Scaffold: generate a project, run it, migrate it, manage its tasks.",
            version=framework_version(),
            container=project_container,
            commands=[new, update, template],
        )
        self.mounts = {mount.name: mount for mount in mounts if mount.name not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return sorted({*self.commands, *self.mounts})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands, one line each, without importing the built-in mounts."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = []
        for name in names:
            mount = self.mounts.get(name)
            if name not in self.commands and mount is not None and mount.listed_without_loading:
                rows.append((name, mount.help_line()))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in self.mounts:
            found = self.mounts[cmd_name].load()
            self.commands[cmd_name] = found
        return found


def scaffold_command() -> ScaffoldCommand:
    """Build the `scaffold` command with the built-in mounts and any plugins installed."""
    return ScaffoldCommand([*BUILT_IN_MOUNTS, *plugin_mounts()])
