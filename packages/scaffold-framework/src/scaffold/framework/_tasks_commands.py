"""`scaffold worker` and `scaffold tasks ...`: scaffold-tasks' commands, for the project's queue.

scaffold-tasks publishes, in its public module `scaffold.tasks.cli`, factories of its
commands that take a loader of the application's `Worker` or `TaskQueue`:
`worker_command(load)` and `tasks_group(load)`. The loader given here reads `worker` of
[tool.scaffold] in the project's pyproject.toml. The module is imported by name so that
this package keeps to what scaffold-tasks exports at run time (and says precisely what is
missing when it does not export it).
"""

from __future__ import annotations

import importlib
from typing import Final

import click

from scaffold.cli import CommandError, ExitCode

from ._project_config import ProjectConfigError, find_project, load_object

PUBLIC_MODULE: Final = "scaffold.tasks.cli"


def _project_queue() -> object:
    """The project's Worker or TaskQueue: `worker` of [tool.scaffold], called if callable."""
    try:
        target = load_object(find_project().require("worker"))
    except ProjectConfigError as error:
        raise CommandError(
            f"{error} (a Worker, a TaskQueue, or a function returning one). Outside a "
            "project, run `python -m scaffold.tasks worker --app module:attribute`",
            exit_code=ExitCode.CONFIG,
        ) from error
    return target() if callable(target) else target


def _factory(name: str) -> object:
    module = importlib.import_module(PUBLIC_MODULE)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise ImportError(f"{PUBLIC_MODULE} has no {name}() to build the command with")  # noqa: TRY004 - a mount reports an ImportError as "cannot be loaded"
    return factory(_project_queue)


def _command[C: click.Command](name: str, kind: type[C]) -> C:
    made = _factory(name)
    if not isinstance(made, kind):
        raise ImportError(  # noqa: TRY004 - a mount reports an ImportError as "cannot be loaded"
            f"{PUBLIC_MODULE}.{name}() did not return a click {kind.__name__}"
        )
    return made


worker: click.Command = _command("worker_command", click.Command)
tasks: click.Group = _command("tasks_group", click.Group)
