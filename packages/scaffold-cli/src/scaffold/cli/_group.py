"""Groups of injected commands, and the CLI app at their root."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._command import Command
from ._container import META_KEY, ContainerFactory, ContainerSource
from ._errors import CommandError
from ._logging import LOG_FORMATS, LOG_LEVELS, LogFormat, configure_logging

if TYPE_CHECKING:
    from collections.abc import Callable

    from scaffold.di import Container


class Group(click.Group):
    """A click group whose `@group.command()` makes injected commands and `@group.group()`
    more such groups. Plain click commands can be added too (`add_command`)."""

    command_class = Command
    # `type`: subgroups are of the same class as their parent (click's convention).
    group_class: type[click.Group | type] | None = type

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CommandError as error:  # raised by a plain click command in the group
            error.show()
            ctx.exit(error.exit_code)


def group(
    name: str | None = None,
    **attrs: Any,  # noqa: ANN401 - forwarded to click.group, which takes **kwargs: Any
) -> Callable[[Callable[..., Any]], Group]:
    """Make a group of injected commands (same arguments as `click.group`)."""

    def decorator(function: Callable[..., Any]) -> Group:
        made = click.group(name, cls=Group, **attrs)(function)
        if not isinstance(made, Group):  # pragma: no cover - click honours cls
            raise TypeError("click did not build a scaffold.cli.Group")
        return made

    return decorator


def _configure_logging(ctx: click.Context, log_level: str, log_format: LogFormat) -> None:
    ctx.meta["scaffold.cli.logging"] = configure_logging(log_level, log_format)


class CliApp(Group):
    """The root command of an application's CLI.

    Parameters:
        name: the program name shown in `--help` and errors.
        container: the application's container, or a function that builds it (the
            composition root). A factory runs only when a command runs, so `--help` and
            usage errors never build the application. Without one, only commands that need
            no injection can run.
        help: the text `--help` shows above the commands.
        version: when given, adds `--version`.

    Every app takes `--log-level` and `--log-format` (also read from the environment as
    `<PREFIX>_LOG_LEVEL` / `<PREFIX>_LOG_FORMAT`, the prefix being the name in upper case)
    and configures logging once before the command runs.
    """

    group_class = Group  # subgroups are plain groups: the container and options are the root's

    def __init__(
        self,
        name: str,
        *,
        container: Container | ContainerFactory | None = None,
        help: str | None = None,  # noqa: A002 - the name click uses for the same thing
        version: str | None = None,
        **attrs: Any,  # noqa: ANN401 - forwarded to click, which takes **kwargs: Any
    ) -> None:
        self.container_source = None if container is None else ContainerSource(container)
        prefix = name.upper().replace("-", "_")
        params: list[click.Parameter] = [
            click.Option(
                ["--log-level"],
                type=click.Choice(LOG_LEVELS, case_sensitive=False),
                default="INFO",
                show_default=True,
                envvar=f"{prefix}_LOG_LEVEL",
                help="Lowest level of log records to write to standard error.",
            ),
            click.Option(
                ["--log-format"],
                type=click.Choice(LOG_FORMATS),
                default="console",
                show_default=True,
                envvar=f"{prefix}_LOG_FORMAT",
                help="console: lines for people; json: one JSON object per line.",
            ),
        ]
        if version is not None:
            params.append(_version_option(name, version))
        super().__init__(
            name,
            params=[*params, *attrs.pop("params", [])],
            callback=click.pass_context(_configure_logging),
            help=help,
            **attrs,
        )

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,  # noqa: ANN401 - forwarded to click, which takes **kwargs: Any
    ) -> click.Context:
        ctx = super().make_context(info_name, args, parent, **extra)
        if self.container_source is not None:
            ctx.meta.setdefault(META_KEY, self.container_source)
        return ctx


def _version_option(name: str, version: str) -> click.Option:
    def show(ctx: click.Context, _param: click.Parameter, value: object) -> None:
        if value and not ctx.resilient_parsing:
            click.echo(f"{name} {version}")
            ctx.exit()

    return click.Option(
        ["--version"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=show,
        help="Show the version and exit.",
    )
