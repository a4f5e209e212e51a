"""Counters a worker keeps, for logs, health checks and metrics exporters."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(slots=True)
class WorkerCounters:
    """Totals since the worker started; `as_dict()` suits a metrics exporter.

    - claimed: tasks taken from the queue.
    - succeeded, retried, dead_lettered: outcomes of attempts (`timed_out` is a subset of
      the failures).
    - lost_leases: outcomes not recorded because the task's lease had already expired
      and it may have been run elsewhere as well (a possible duplicate execution).
    - recovered: tasks of dead workers this worker requeued or dead-lettered.
    - released: tasks handed back unfinished on shutdown.
    - database_errors: failed database round trips (each retried).
    """

    claimed: int = 0
    succeeded: int = 0
    retried: int = 0
    dead_lettered: int = 0
    timed_out: int = 0
    lost_leases: int = 0
    recovered: int = 0
    released: int = 0
    database_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)
