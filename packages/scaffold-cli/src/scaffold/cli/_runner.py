"""One command run: a DI scope, the dependencies resolved in it, the target called."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from scaffold.di import DependencyError

from ._container import find_source, no_container_error
from ._errors import CommandError, ExitCode
from ._logging import current_command
from ._progress import Progress

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scaffold.di import Container

    from ._plan import CommandPlan

logger = logging.getLogger("scaffold.cli")


def _run_context(ctx: click.Context) -> dict[object, object]:
    """Objects a command may ask for by type, besides the container's services."""
    console = Console(stderr=True)
    return {click.Context: ctx, Console: console, Progress: Progress(console)}


def _call(
    plan: CommandPlan, dependencies: Mapping[str, object], arguments: Mapping[str, Any]
) -> object:
    if plan.is_class:
        return plan.target(**dependencies)(**arguments)
    return plan.target(**dependencies, **arguments)


def _from_run_context(
    ctx: click.Context, types: Mapping[str, Any], run_context: Mapping[object, object]
) -> dict[str, object]:
    """Without a container, only the run's own objects (context, console, progress) exist."""
    missing = [
        getattr(kind, "__name__", repr(kind)) for kind in types.values() if kind not in run_context
    ]
    if missing:
        raise no_container_error(ctx, missing)
    return {name: run_context[kind] for name, kind in types.items()}


def _needs_container(types: Mapping[str, Any], run_context: Mapping[object, object]) -> bool:
    # A command that asks for nothing from the container never builds the application.
    return any(kind not in run_context for kind in types.values())


async def _run_async(ctx: click.Context, plan: CommandPlan, arguments: Mapping[str, Any]) -> object:
    types = plan.dependency_types()
    source = find_source(ctx)
    run_context = _run_context(ctx)
    if source is None or not _needs_container(types, run_context):
        result = _call(plan, _from_run_context(ctx, types, run_context), arguments)
        return await result if asyncio.iscoroutine(result) else result
    container, owned = await source.open()
    try:
        async with container.scope(context=run_context) as scope:
            dependencies = {name: await scope.aresolve(kind) for name, kind in types.items()}
            result = _call(plan, dependencies, arguments)
            if asyncio.iscoroutine(result):
                result = await result
            return result
    finally:
        if owned:
            await container.aclose()


def _run_sync(ctx: click.Context, plan: CommandPlan, arguments: Mapping[str, Any]) -> object:
    # The container is built and initialised in a loop of its own, and the command then runs
    # outside any event loop, so a sync command may start one itself (asyncio.run).
    types = plan.dependency_types()
    source = find_source(ctx)
    run_context = _run_context(ctx)
    if source is None or not _needs_container(types, run_context):
        return _call(plan, _from_run_context(ctx, types, run_context), arguments)
    container: Container
    container, owned = asyncio.run(source.open())
    try:
        with container.sync_scope(context=run_context) as scope:
            dependencies = {name: scope.resolve(kind) for name, kind in types.items()}
            return _call(plan, dependencies, arguments)
    finally:
        if owned:
            asyncio.run(container.aclose())


def run_command(ctx: click.Context, plan: CommandPlan, arguments: Mapping[str, Any]) -> object:
    """Run `plan` for the click context `ctx`, turning failures into the documented exit codes."""
    token = current_command.set(ctx.command_path)
    try:
        if plan.is_async:
            return asyncio.run(_run_async(ctx, plan, arguments))
        return _run_sync(ctx, plan, arguments)
    except CommandError as error:
        error.show()
        ctx.exit(error.exit_code)
    except DependencyError as error:
        click.echo(
            f"Error: command {ctx.command_path!r} cannot get its dependencies: {error}", err=True
        )
        ctx.exit(ExitCode.CONFIG)
    except KeyboardInterrupt:
        click.echo("Aborted.", err=True)
        ctx.exit(ExitCode.INTERRUPTED)
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except Exception:
        # Logged rather than left to the interpreter, so a JSON log keeps the traceback too.
        logger.exception("command %s failed", ctx.command_path)
        ctx.exit(ExitCode.FAILURE)
    finally:
        current_command.reset(token)
