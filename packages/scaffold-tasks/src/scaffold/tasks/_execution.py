"""Running one claimed task: decode it, resolve its handler, call it, judge the outcome."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import traceback
from typing import TYPE_CHECKING

import pydantic

from ._errors import TaskFailedPermanentlyError
from ._records import Failure
from .types import TaskContext

if TYPE_CHECKING:
    from ._records import ClaimedTask
    from ._registry import TaskDefinition, TaskRegistry
    from .types import HandlerResolver

logger = logging.getLogger("scaffold.tasks")

_MAX_ERROR = 16_000


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """Success when `failure` is None; `timed_out` marks a failure by the job timeout."""

    failure: Failure | None = None
    timed_out: bool = False


SUCCESS = Outcome()


def _trim(text: str) -> str:
    # The end of a traceback says what failed; keep it when the text is too long.
    return text if len(text) <= _MAX_ERROR else "...\n" + text[-_MAX_ERROR:]


def _dead(claimed: ClaimedTask, message: str) -> Outcome:
    logger.error("task %s (%s) dead-lettered: %s", claimed.name, claimed.id, message)
    return Outcome(Failure(claimed.id, _trim(message), None))


def _failed(
    claimed: ClaimedTask, definition: TaskDefinition[object], error: str, *, timed_out: bool
) -> Outcome:
    if claimed.attempt >= claimed.max_attempts:
        logger.error(
            "task %s (%s) failed on its last attempt (%d of %d) and is dead-lettered",
            claimed.name, claimed.id, claimed.attempt, claimed.max_attempts,
        )  # fmt: skip
        return Outcome(Failure(claimed.id, _trim(error), None), timed_out=timed_out)
    retry_in = definition.retry.delay(claimed.attempt)
    logger.warning(
        "task %s (%s) failed on attempt %d of %d; retrying in %.1fs",
        claimed.name, claimed.id, claimed.attempt, claimed.max_attempts, retry_in,
    )  # fmt: skip
    return Outcome(Failure(claimed.id, _trim(error), retry_in), timed_out=timed_out)


def _prepare(
    claimed: ClaimedTask, registry: TaskRegistry
) -> tuple[TaskDefinition[object], object] | Outcome:
    """The task's definition and decoded task, or the dead-letter outcome saying why not.

    The database names a task, never code: an unknown name or a payload that does not
    validate cannot get better with retries.
    """
    definition = registry.by_name(claimed.name)
    if definition is None:
        known = ", ".join(registry.names()) or "none"
        return _dead(
            claimed,
            f"no task type is registered under the name {claimed.name!r} in this worker "
            f"(registered: {known})",
        )
    if definition.handler_type is None:
        return _dead(claimed, f"no handler is registered for task {claimed.name!r}")
    try:
        return definition, definition.decode(claimed.payload)
    except pydantic.ValidationError as error:
        return _dead(
            claimed,
            f"the payload of task {claimed.name!r} does not validate as "
            f"{definition.task_type.__qualname__}: {error}",
        )


async def execute(
    claimed: ClaimedTask, registry: TaskRegistry, resolver: HandlerResolver, worker_id: str
) -> Outcome:
    """Run one attempt of `claimed`; never raises except on cancellation."""
    prepared = _prepare(claimed, registry)
    if isinstance(prepared, Outcome):
        return prepared
    definition, task = prepared
    handler_type = definition.handler_type
    assert handler_type is not None  # noqa: S101 - _prepare dead-letters tasks without one
    context = TaskContext(
        task_id=claimed.id,
        task_name=claimed.name,
        queue=claimed.queue,
        attempt=claimed.attempt,
        max_attempts=claimed.max_attempts,
        worker_id=worker_id,
    )
    timeout = asyncio.timeout(definition.timeout) if definition.timeout is not None else None
    try:
        if timeout is None:
            async with resolver(handler_type, context) as handler:
                await handler.handle(task)
        else:
            async with timeout, resolver(handler_type, context) as handler:
                await handler.handle(task)
    except TaskFailedPermanentlyError:
        return _dead(claimed, traceback.format_exc())
    except TimeoutError:
        expired = timeout is not None and timeout.expired()
        message = f"timed out after {definition.timeout}s\n" if expired else ""
        return _failed(claimed, definition, message + traceback.format_exc(), timed_out=expired)
    except Exception:  # noqa: BLE001 - any failure of user code is recorded, never lost
        return _failed(claimed, definition, traceback.format_exc(), timed_out=False)
    return SUCCESS
