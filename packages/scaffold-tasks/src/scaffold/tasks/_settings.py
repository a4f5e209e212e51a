"""How a worker runs: `WorkerSettings`, and the durations worked out from them."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ._durations import Duration, seconds
from ._task import check_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._backend import TaskBackend


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How a worker runs. Durations are seconds or `timedelta`s.

    Parameters:
        queues: the queues to take tasks from.
        concurrency: tasks this worker runs at once.
        batch_size: tasks claimed per round trip (default: `concurrency`); claimed tasks
            wait in the worker until a runner is free.
        lease: how long a claimed task stays reserved without a heartbeat; a worker that
            dies loses its tasks to other workers this long after its last heartbeat.
        heartbeat_interval: how often leases are renewed (default: a third of `lease`).
        poll_interval: how often an idle worker looks for due tasks without a wake-up
            (default: the backend's, 2 s on PostgreSQL).
        shutdown_timeout: how long running tasks may take to finish on shutdown before
            they are cancelled and handed back to the queue.
        keep_done: how long finished tasks are kept before pruning; 0 deletes them at once.
        maintenance_interval: how often expired leases are recovered (default: half the
            lease).
        prune_interval: how often done tasks older than `keep_done` are deleted.
    """

    queues: Sequence[str] = ("default",)
    concurrency: int = 10
    batch_size: int | None = None
    lease: Duration = 30.0
    heartbeat_interval: Duration | None = None
    poll_interval: Duration | None = None
    shutdown_timeout: Duration = 30.0
    keep_done: Duration = 86400.0
    maintenance_interval: Duration | None = None
    prune_interval: Duration = 300.0

    def __post_init__(self) -> None:
        if isinstance(self.queues, str) or not self.queues:
            raise ValueError(f"queues must be a non-empty sequence of names, not {self.queues!r}")
        for queue in self.queues:
            check_name(queue, "queue")
        for name in ("concurrency", "batch_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):  # fmt: skip
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        lease = seconds(self.lease, "lease", allow_zero=False)
        seconds(self.shutdown_timeout, "shutdown_timeout")
        seconds(self.keep_done, "keep_done")
        seconds(self.prune_interval, "prune_interval", allow_zero=False)
        for name in ("heartbeat_interval", "poll_interval", "maintenance_interval"):
            value = getattr(self, name)
            if value is not None:
                seconds(value, name, allow_zero=False)
        heartbeat = self.heartbeat_interval
        if heartbeat is not None and seconds(heartbeat, "heartbeat_interval") >= lease:
            raise ValueError("heartbeat_interval must be shorter than the lease")


@dataclasses.dataclass(frozen=True, slots=True)
class Timing:
    lease: float
    heartbeat: float
    poll: float
    shutdown: float
    keep_done: float
    maintenance: float
    prune: float
    batch: int


def timing_of(settings: WorkerSettings, backend: TaskBackend) -> Timing:
    lease = seconds(settings.lease, "lease")
    return Timing(
        lease=lease,
        heartbeat=seconds(settings.heartbeat_interval or lease / 3, "heartbeat_interval"),
        poll=seconds(settings.poll_interval or backend.default_poll_interval, "poll_interval"),
        shutdown=seconds(settings.shutdown_timeout, "shutdown_timeout"),
        keep_done=seconds(settings.keep_done, "keep_done"),
        maintenance=seconds(settings.maintenance_interval or lease / 2, "maintenance_interval"),
        prune=seconds(settings.prune_interval, "prune_interval"),
        batch=settings.batch_size or settings.concurrency,
    )
