"""Click commands whose functions or classes get their dependencies from the container."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._plan import CommandPlan, plan_command
from ._runner import run_command

if TYPE_CHECKING:
    from collections.abc import Callable


class Command(click.Command):
    """A click command whose target is called with its dependencies injected.

    The target is a function (sync or async) or a class: a function's parameters that no
    option or argument fills are resolved from the container; a class is built with its
    `__init__` dependencies resolved, then called with the options and arguments. Each run
    gets a DI scope of its own.
    """

    def __init__(
        self,
        name: str | None,
        *,
        callback: Callable[..., Any] | None = None,
        params: list[click.Parameter] | None = None,
        **attrs: Any,  # noqa: ANN401 - forwarded to click, which takes **kwargs: Any
    ) -> None:
        if callback is None:
            raise TypeError(f"command {name!r} needs a function or class to run")
        command_name = name or callback.__name__
        self.plan: CommandPlan = plan_command(
            callback, command_name, (p.name for p in params or () if p.name)
        )
        super().__init__(name, callback=self._run, params=params, **attrs)

    def _run(self, **arguments: Any) -> object:  # noqa: ANN401 - click passes each parameter's converted value
        return run_command(click.get_current_context(), self.plan, arguments)


def command(
    name: str | None = None,
    **attrs: Any,  # noqa: ANN401 - forwarded to click.command, which takes **kwargs: Any
) -> Callable[[Callable[..., Any]], Command]:
    """Make a function or class an injected command (`@command()` over click's decorators).

    Takes the same arguments as `click.command`; attach it to an app with
    `app.add_command(...)`, or define it with `@app.command()` directly.
    """

    def decorator(target: Callable[..., Any]) -> Command:
        made = click.command(name, cls=Command, **attrs)(target)
        if not isinstance(made, Command):  # pragma: no cover - click honours cls
            raise TypeError("click did not build a scaffold.cli.Command")
        return made

    return decorator
