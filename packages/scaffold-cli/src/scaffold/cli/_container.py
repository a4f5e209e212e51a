"""Where a CLI app's commands get their container from."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Final

import click

from scaffold.di import Container

from ._errors import CommandError, ExitCode

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

type ContainerFactory = Callable[[], Container | Awaitable[Container]]
"""Builds the application's container: the composition root, e.g. `bootstrap`."""

# The key under which the root of a click context tree keeps the app's container source.
META_KEY: Final = "scaffold.cli.container"


class ContainerSource:
    """Gives each command run a ready container.

    A factory builds a fresh container for each run, which the run initialises and closes:
    a CLI process runs one command, so the run is the container's lifetime. A container
    given as is stays the caller's: it is initialised once and never closed here.
    """

    def __init__(self, container: Container | ContainerFactory) -> None:
        self._container = container
        self._initialised = False

    async def open(self) -> tuple[Container, bool]:
        """Return the container and whether this run owns it (and must close it)."""
        if isinstance(self._container, Container):
            if not self._initialised:
                await self._container.init()
                self._initialised = True
            return self._container, False
        built = self._container()
        if inspect.isawaitable(built):
            built = await built
        if not isinstance(built, Container):
            raise CommandError(
                f"the container factory {self._container!r} returned {type(built).__name__},"
                " not a scaffold.di.Container",
                exit_code=ExitCode.CONFIG,
            )
        await built.init()
        return built, True


def find_source(ctx: click.Context) -> ContainerSource | None:
    source = ctx.meta.get(META_KEY)
    return source if isinstance(source, ContainerSource) else None


def no_container_error(ctx: click.Context, missing: list[str]) -> CommandError:
    return CommandError(
        f"command {ctx.command_path!r} needs {', '.join(missing)} from a container, and it has"
        " none: run it from a scaffold.cli.CliApp(container=...)",
        exit_code=ExitCode.CONFIG,
    )
