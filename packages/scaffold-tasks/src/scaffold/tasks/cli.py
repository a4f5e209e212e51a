"""Command-line interface: `worker` and the `tasks` admin group, on click.

The `scaffold` command mounts them as `scaffold worker` and `scaffold tasks ...`. They
find the application's queue in one of two ways:

- made with a loader, by the host: `worker_command(load)` / `tasks_group(load)`, where
  `load()` returns (or returns an awaitable of) a `Worker` or a `TaskQueue`;
- the ready-made `worker` and `tasks` take `--app module:attribute` (or the
  `SCAFFOLD_TASKS_APP` environment variable) naming such an object or a callable that
  returns one.

`python -m scaffold.tasks` runs both standalone.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import re
import uuid
from typing import TYPE_CHECKING, Any, cast

import click

from ._errors import SchemaVersionError, TaskQueueError
from ._queue import TaskQueue
from ._records import TaskState
from ._worker import Worker

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from ._records import TaskInfo

type Loadable = Worker | TaskQueue
type Loader = Callable[[], Loadable | Awaitable[Loadable]]

_DURATION = re.compile(r"(?P<value>\d+(?:\.\d+)?)(?P<unit>[smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
APP_HELP = "The application's Worker or TaskQueue, or a callable returning one: module:attribute."


def load_target(spec: str) -> Loader:
    """The loader of `module:attribute`; a clear error if it does not name anything."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise click.BadParameter(
            f"{spec!r} is not of the form module:attribute", param_hint="--app"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise click.BadParameter(
            f"cannot import {module_name!r}: {error}", param_hint="--app"
        ) from error
    target: object = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise click.BadParameter(
                f"{module_name!r} has no attribute {attribute!r}", param_hint="--app"
            ) from None
    if isinstance(target, Worker | TaskQueue):
        found = target
        return lambda: found
    if callable(target):
        return cast("Loader", target)
    raise click.BadParameter(
        f"{spec} is a {type(target).__name__}, not a Worker, a TaskQueue or a callable",
        param_hint="--app",
    )


async def _resolve(load: Loader) -> Loadable:
    loaded = load()
    if inspect.isawaitable(loaded):
        loaded = await loaded
    if not isinstance(loaded, Worker | TaskQueue):
        raise click.ClickException(
            f"the application loader returned {loaded!r}, not a Worker or a TaskQueue"
        )
    return loaded


def _run[R](coroutine: Coroutine[Any, Any, R]) -> R:
    try:
        return asyncio.run(coroutine)
    except SchemaVersionError as error:
        raise click.ClickException(str(error)) from error
    except TaskQueueError as error:
        raise click.ClickException(str(error)) from error


def _duration(value: str) -> float:
    match = _DURATION.fullmatch(value.strip())
    if not match:
        raise click.BadParameter(f"{value!r} is not a duration like 30s, 15m, 12h or 7d")
    return float(match["value"]) * _UNITS[match["unit"]]


def _loader(ctx: click.Context, load: Loader | None) -> Loader:
    if load is not None:
        return load
    spec = ctx.meta.get("scaffold.tasks.app")
    if not spec:
        raise click.UsageError("name the application with --app module:attribute")
    return load_target(spec)


# ----------------------------------------------------------------------------------------
# worker
# ----------------------------------------------------------------------------------------


def worker_command(load: Loader | None = None, name: str = "worker") -> click.Command:
    """The `worker` command; with `load`, it takes no `--app` option."""

    @click.pass_context
    def command(
        ctx: click.Context,
        *,
        queue: tuple[str, ...],
        concurrency: int | None,
        batch_size: int | None,
        lease: float | None,
        shutdown_timeout: float | None,
        log_level: str,
        app: str | None = None,
    ) -> None:
        """Run tasks until SIGTERM or SIGINT (a second signal stops at once)."""
        if app:
            ctx.meta["scaffold.tasks.app"] = app
        logging.basicConfig(
            level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        loader = _loader(ctx, load)
        given = {
            "queues": queue or None,
            "concurrency": concurrency,
            "batch_size": batch_size,
            "lease": lease,
            "shutdown_timeout": shutdown_timeout,
        }
        changes = {key: value for key, value in given.items() if value is not None}

        async def work() -> None:
            loaded = await _resolve(loader)
            worker = loaded if isinstance(loaded, Worker) else Worker(loaded)
            if changes:
                try:
                    worker = worker.with_settings(**changes)
                except (TypeError, ValueError) as error:
                    raise click.BadParameter(str(error)) from error
            try:
                await worker.run()
            finally:
                await worker.queue.close()

        _run(work())

    params: list[click.Parameter] = [
        click.Option(["--queue", "-q"], multiple=True, help="A queue to work on (repeatable)."),
        click.Option(["--concurrency", "-c"], type=click.IntRange(min=1), help="Tasks at once."),
        click.Option(["--batch-size"], type=click.IntRange(min=1), help="Tasks per claim."),
        click.Option(
            ["--lease"], metavar="DURATION", callback=_duration_option, help="Lease, e.g. 30s."
        ),
        click.Option(
            ["--shutdown-timeout"],
            metavar="DURATION",
            callback=_duration_option,
            help="Grace on shutdown, e.g. 1m.",
        ),
        click.Option(
            ["--log-level"],
            default="info",
            show_default=True,
            type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
        ),
    ]
    if load is None:
        params.append(click.Option(["--app"], envvar="SCAFFOLD_TASKS_APP", help=APP_HELP))
    return click.Command(name, callback=command, params=params, help=command.__doc__)


def _duration_option(
    ctx: click.Context,  # noqa: ARG001 - click's callback signature
    param: click.Parameter,  # noqa: ARG001 - same
    value: str | None,
) -> float | None:
    return None if value is None else _duration(value)


# ----------------------------------------------------------------------------------------
# tasks
# ----------------------------------------------------------------------------------------


def _format_task(task: TaskInfo) -> str:
    error = (task.last_error or "").strip().splitlines()
    last = f"  {error[-1][:100]}" if error else ""
    return (
        f"{task.id}  {task.state:<7} {task.queue:<12} {task.name:<30} "
        f"attempt {task.attempts}/{task.max_attempts}  run_at {task.run_at:%Y-%m-%d %H:%M:%S}"
        f"{last}"
    )


def _task_json(task: TaskInfo) -> dict[str, object]:
    return {
        "id": str(task.id),
        "name": task.name,
        "queue": task.queue,
        "state": str(task.state),
        "priority": task.priority,
        "run_at": task.run_at.isoformat(),
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "dedup_key": task.dedup_key,
        "worker_id": task.worker_id,
        "last_error": task.last_error,
        "created_at": task.created_at.isoformat(),
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
        "payload": json.loads(task.payload),
    }


def _ids(values: tuple[str, ...]) -> list[uuid.UUID]:
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a task id (task ids are UUIDs, as `tasks list` shows them)",
                param_hint="TASK_ID",
            ) from None
    return ids


def tasks_group(load: Loader | None = None, name: str = "tasks") -> click.Group:  # noqa: C901, PLR0915 - one nested function per command
    """The `tasks` admin group; with `load`, it takes no `--app` option."""

    @click.pass_context
    def group(ctx: click.Context, app: str | None = None) -> None:
        """Look after the task queue: schema, tasks, queues."""
        if app:
            ctx.meta["scaffold.tasks.app"] = app

    params: list[click.Parameter] = []
    if load is None:
        params.append(click.Option(["--app"], envvar="SCAFFOLD_TASKS_APP", help=APP_HELP))
    tasks = click.Group(name, callback=group, params=params, help=group.__doc__)

    def with_queue[R](ctx: click.Context, action: Callable[[TaskQueue], Awaitable[R]]) -> R:
        loader = _loader(ctx, load)

        async def run() -> R:
            loaded = await _resolve(loader)
            queue = loaded.queue if isinstance(loaded, Worker) else loaded
            try:
                return await action(queue)
            finally:
                await queue.close()

        return _run(run())

    @tasks.command()
    @click.pass_context
    def migrate(ctx: click.Context) -> None:
        """Create or upgrade the task queue's tables."""
        version = with_queue(ctx, lambda q: q.migrate())
        click.echo(f"task queue schema at version {version}")

    @tasks.command()
    @click.pass_context
    def check(ctx: click.Context) -> None:
        """Exit with an error unless the schema is the one this version needs."""
        with_queue(ctx, lambda q: q.check_schema())
        click.echo("task queue schema is up to date")

    @tasks.command(name="list")
    @click.option(
        "--state",
        "states",
        multiple=True,
        type=click.Choice([s.value for s in TaskState]),
        help="Repeatable; default: queued and running.",
    )
    @click.option("--queue", help="Only this queue.")
    @click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    @click.pass_context
    def list_(
        ctx: click.Context, states: tuple[str, ...], queue: str | None, limit: int, *, as_json: bool
    ) -> None:
        """List tasks, oldest first."""
        wanted = [TaskState(s) for s in states] or [TaskState.QUEUED, TaskState.RUNNING]
        found = with_queue(ctx, lambda q: q.admin.list(wanted, queue=queue, limit=limit))
        for task in found:
            click.echo(json.dumps(_task_json(task)) if as_json else _format_task(task))
        if not as_json:
            click.echo(f"{len(found)} task(s)", err=True)

    @tasks.command()
    @click.argument("task_id")
    @click.pass_context
    def show(ctx: click.Context, task_id: str) -> None:
        """Everything about one task, with its last error, as JSON."""
        found = with_queue(ctx, lambda q: q.admin.get(_ids((task_id,))[0]))
        if found is None:
            raise click.ClickException(f"no task {task_id}")
        click.echo(json.dumps(_task_json(found), indent=2))

    @tasks.command()
    @click.pass_context
    def counts(ctx: click.Context) -> None:
        """How many tasks each queue holds per state."""
        found = with_queue(ctx, lambda q: q.admin.counts())
        for row in found:
            click.echo(f"{row.queue:<20} {row.state:<8} {row.count}")
        paused = with_queue(ctx, lambda q: q.admin.paused())
        if paused:
            click.echo(f"paused: {', '.join(paused)}")

    def selection(ids: tuple[str, ...], *, all_: bool) -> list[uuid.UUID] | None:
        if bool(ids) == all_:
            raise click.UsageError("give task ids or --all, not both and not neither")
        return None if all_ else _ids(ids)

    @tasks.command()
    @click.argument("ids", nargs=-1)
    @click.option("--all", "all_", is_flag=True, help="Every dead task (of --queue).")
    @click.option("--queue", help="With --all: only this queue.")
    @click.pass_context
    def retry(ctx: click.Context, ids: tuple[str, ...], *, all_: bool, queue: str | None) -> None:
        """Queue dead tasks again, with a fresh attempt count."""
        chosen = selection(ids, all_=all_)
        n = with_queue(ctx, lambda q: q.admin.retry_dead(chosen, queue=queue))
        click.echo(f"{n} dead task(s) queued again")

    @tasks.command()
    @click.argument("ids", nargs=-1)
    @click.option("--all", "all_", is_flag=True, help="Every task in the state (of --queue).")
    @click.option("--queue", help="With --all: only this queue.")
    @click.option(
        "--state", default="dead", show_default=True, type=click.Choice(["dead", "queued"])
    )
    @click.pass_context
    def purge(
        ctx: click.Context, ids: tuple[str, ...], *, all_: bool, queue: str | None, state: str
    ) -> None:
        """Delete dead (or not yet started) tasks for good."""
        chosen = selection(ids, all_=all_)
        if state == "dead":
            n = with_queue(ctx, lambda q: q.admin.purge_dead(chosen, queue=queue))
        else:
            n = with_queue(ctx, lambda q: q.admin.purge_queued(chosen, queue=queue))
        click.echo(f"{n} {state} task(s) deleted")

    @tasks.command()
    @click.argument("queue")
    @click.pass_context
    def pause(ctx: click.Context, queue: str) -> None:
        """Stop workers from starting tasks of QUEUE."""
        with_queue(ctx, lambda q: q.admin.pause(queue))
        click.echo(f"queue {queue} paused")

    @tasks.command()
    @click.argument("queue")
    @click.pass_context
    def resume(ctx: click.Context, queue: str) -> None:
        """Let workers start tasks of QUEUE again."""
        with_queue(ctx, lambda q: q.admin.resume(queue))
        click.echo(f"queue {queue} resumed")

    @tasks.command()
    @click.option(
        "--older-than",
        required=True,
        metavar="DURATION",
        callback=_duration_option,
        help="e.g. 7d, 12h, 3600.",
    )
    @click.pass_context
    def prune(ctx: click.Context, older_than: float) -> None:
        """Delete done tasks that finished longer ago than --older-than."""
        n = with_queue(ctx, lambda q: q.admin.prune(older_than))
        click.echo(f"{n} done task(s) deleted")

    return tasks


worker = worker_command()
tasks = tasks_group()


@click.group(name="scaffold-tasks")
def main() -> None:
    """scaffold-tasks on its own: the worker and the admin commands."""


main.add_command(worker)
main.add_command(tasks)
