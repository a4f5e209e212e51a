"""`scaffold tasks ...` and `scaffold worker`: scaffold-tasks' own click group, mounted.

scaffold-tasks publishes its worker and admin commands as one click group in its public
module `scaffold.tasks.cli`. It is mounted whole as `scaffold tasks`, and its `worker`
command also as `scaffold worker`, the name the 0.9 set-up and compose files use.
"""

from __future__ import annotations

import importlib
from typing import Final

import click

PUBLIC_MODULE: Final = "scaffold.tasks.cli"


def _published_group() -> click.Group:
    """The one click group `scaffold.tasks.cli` exports (by `__all__`)."""
    module = importlib.import_module(PUBLIC_MODULE)
    names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
    groups = {id(g): g for g in (getattr(module, n) for n in names) if isinstance(g, click.Group)}
    if len(groups) != 1:
        raise ImportError(
            f"{PUBLIC_MODULE} should export exactly one click group, and it exports {len(groups)}"
        )
    return next(iter(groups.values()))


tasks: click.Group = _published_group()

worker: click.Command | None = tasks.commands.get("worker")
if worker is None:
    raise ImportError(f"the click group of {PUBLIC_MODULE} has no `worker` command")
