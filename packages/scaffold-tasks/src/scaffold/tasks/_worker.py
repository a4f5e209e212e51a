"""The worker: claims tasks in batches, runs them concurrently, acknowledges in batches.

Inside one worker:
- the claimer takes up to `batch_size` due tasks whenever there is room, and otherwise
  waits for a wake-up (NOTIFY on PostgreSQL) or the poll timer;
- `concurrency` runners execute the claimed tasks;
- the acknowledger records finished outcomes, all that piled up in one round trip;
- the heartbeat renews the leases of the tasks in hand; maintenance requeues the tasks
  of workers that died (their lease expired) and prunes old rows; the scheduler fires cron.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import functools
import logging
import os
import random
import secrets
import signal
import socket
from typing import TYPE_CHECKING

from ._counters import WorkerCounters
from ._errors import QueueUnavailableError
from ._execution import execute
from ._resolvers import construct_handler
from ._scheduler import Scheduler
from ._settings import WorkerSettings, timing_of

if TYPE_CHECKING:
    import uuid
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from ._backend import Wakeups
    from ._execution import Outcome
    from ._queue import TaskQueue
    from ._records import ClaimedTask, Failure
    from ._schedule import CronSchedule
    from .types import HandlerResolver

logger = logging.getLogger("scaffold.tasks")

_MAX_BACKOFF = 5.0


def _new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Runs the tasks of a queue; any number of workers may share one database.

    ```python
    worker = Worker(queue, resolver=ContainerResolver(container),
                    settings=WorkerSettings(queues=["default"], concurrency=20))
    await worker.run()          # until SIGTERM/SIGINT or worker.stop()
    ```
    """

    def __init__(
        self,
        queue: TaskQueue,
        *,
        resolver: HandlerResolver | None = None,
        settings: WorkerSettings | None = None,
        schedules: Sequence[CronSchedule] = (),
        worker_id: str | None = None,
    ) -> None:
        self._queue = queue
        self._backend = queue.backend
        self._registry = queue.registry
        self._resolver: HandlerResolver = resolver or construct_handler
        self._settings = settings or WorkerSettings()
        self._timing = timing_of(self._settings, self._backend)
        self._schedules = tuple(schedules)
        self._scheduler = (
            Scheduler(self._backend, self._registry, self._schedules) if schedules else None
        )
        self.id = worker_id or _new_worker_id()
        self.counters = WorkerCounters()
        self._drain = False
        self._reset()

    def _reset(self) -> None:
        self._stopping = asyncio.Event()
        self._forced = False
        self._running = False
        # Claimed tasks waiting for a runner; runners sleep on `_has_work` when it is empty.
        self._ready: collections.deque[ClaimedTask] = collections.deque()
        self._has_work = asyncio.Event()
        self._closing = False
        self._in_hand = 0  # claimed and not yet finished (ready or executing)
        self._held: set[uuid.UUID] = set()  # claimed and not yet acknowledged
        self._acking: set[uuid.UUID] = set()
        self._succeeded: list[uuid.UUID] = []
        self._failed: list[Failure] = []
        self._outcomes = asyncio.Event()
        self._acks_done = asyncio.Event()
        self._acks_done.set()
        self._capacity = asyncio.Event()
        self._claim_lock = asyncio.Lock()
        self._wakeups: Wakeups | None = None
        self._runners: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"Worker(id={self.id!r}, queues={list(self._settings.queues)!r})"

    @property
    def settings(self) -> WorkerSettings:
        return self._settings

    @property
    def queue(self) -> TaskQueue:
        return self._queue

    @property
    def schedules(self) -> tuple[CronSchedule, ...]:
        return self._schedules

    def with_settings(self, **changes: object) -> Worker:
        """A new worker like this one with some settings changed (used by the CLI)."""
        return Worker(
            self._queue,
            resolver=self._resolver,
            settings=dataclasses.replace(self._settings, **changes),  # type: ignore[arg-type]
            schedules=self._schedules,
        )

    def stop(self, *, force: bool = False) -> None:
        """Ask the worker to stop: no more claims, running tasks finish (within the
        shutdown timeout, or at once when `force`), the rest goes back to the queue."""
        self._stopping.set()
        self._capacity.set()
        if self._wakeups is not None:
            self._wakeups.event.set()
        if force and not self._forced:
            self._forced = True
            for runner in self._runners:
                runner.cancel()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Work until `stop()` is called or, with `handle_signals`, SIGTERM/SIGINT arrives
        (a second signal stops at once)."""
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self._on_signal, sig)
                    installed.append(sig)
        try:
            await self._work()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    async def run_until_idle(self) -> WorkerCounters:
        """Run every task that is due, then return; for tests and scripts. Tasks that
        fall due later (scheduled, or retries waiting out their backoff) stay queued."""
        self._drain = True
        try:
            await self._work()
        finally:
            self._drain = False
        return self.counters

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Worker]:
        """Run in the background while the block runs (e.g. inside a web app's lifespan);
        stop gracefully when it ends."""
        task = asyncio.create_task(self.run(handle_signals=False), name=f"worker {self.id}")
        try:
            yield self
        finally:
            self.stop()
            await task

    def _on_signal(self, sig: signal.Signals) -> None:
        if self._stopping.is_set():
            logger.warning("worker %s: second %s, stopping at once", self.id, sig.name)
            self.stop(force=True)
        else:
            logger.info("worker %s: %s received, shutting down gracefully", self.id, sig.name)
            self.stop()

    async def _work(self) -> None:
        if self._running:
            raise RuntimeError(f"worker {self.id} is already running")
        # State is fresh from __init__ or the previous run's end, so that a stop()
        # asked for before the run started is not forgotten.
        self._running = True
        timing = self._timing
        try:
            await self._wait_for_schema()
            await self._retrying(
                "store concurrency limits",
                lambda: self._backend.set_concurrency_limits(
                    {d.name: d.concurrency or 0 for d in self._registry}
                ),
            )
            logger.info(
                "worker %s started: queues %s, concurrency %d, batch %d, lease %.1fs",
                self.id, list(self._settings.queues), self._settings.concurrency, timing.batch,
                timing.lease,
            )  # fmt: skip
            async with self._backend.wakeups(self._settings.queues) as wakeups:
                self._wakeups = wakeups
                await self._supervise(wakeups)
        finally:
            self._reset()
        logger.info("worker %s stopped: %s", self.id, self.counters.as_dict())

    async def _wait_for_schema(self) -> None:
        """Check the schema, waiting (until stopped) while the database is unreachable:
        a worker may start before its database does."""
        backoff = 0.1
        while True:
            try:
                await self._backend.check_schema()
            except QueueUnavailableError as error:
                if self._stopping.is_set():
                    raise
                self.counters.database_errors += 1
                logger.warning("worker %s waits for the database: %s", self.id, error)
                await self._pause(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
            else:
                return

    async def _supervise(self, wakeups: Wakeups) -> None:
        background = [
            asyncio.create_task(self._acknowledger(), name="acknowledger"),
            asyncio.create_task(self._heartbeat(), name="heartbeat"),
            asyncio.create_task(self._maintenance(), name="maintenance"),
        ]
        if self._scheduler is not None and not self._drain:
            background.append(
                asyncio.create_task(self._scheduler.run(self._stopping), name="scheduler")
            )
        self._runners = [
            asyncio.create_task(self._runner(), name=f"runner {i}")
            for i in range(self._settings.concurrency)
        ]
        try:
            await self._claimer(wakeups)
            await self._shut_down()
        finally:
            for task in [*self._runners, *background]:
                task.cancel()
            await asyncio.gather(*self._runners, *background, return_exceptions=True)

    # Claiming

    async def _claimer(self, wakeups: Wakeups) -> None:
        timing = self._timing
        concurrency = self._settings.concurrency
        queues = list(self._settings.queues)
        while not self._stopping.is_set():
            room = min(timing.batch, concurrency + timing.batch - self._in_hand)
            self._capacity.clear()
            if room <= 0 or (room < timing.batch // 2 and self._ready):
                await self._capacity.wait()
                continue
            wakeups.event.clear()
            claimed = await self._claim(queues, room)
            if claimed is None:  # the database is unavailable; _claim waited already
                continue
            if len(claimed) == room:
                continue
            if self._drain:
                if await self._drained(queues, claimed):
                    return
                continue
            await self._idle(wakeups, queues, claimed=bool(claimed))

    async def _claim(self, queues: list[str], room: int) -> list[ClaimedTask] | None:
        timing = self._timing
        try:
            async with self._claim_lock:
                claimed = await self._backend.claim(self.id, queues, room, timing.lease)
                for task in claimed:
                    self._held.add(task.id)
        except QueueUnavailableError as error:
            self.counters.database_errors += 1
            logger.warning("worker %s cannot claim tasks (retrying): %s", self.id, error)
            await self._pause(1.0)
            return None
        self._in_hand += len(claimed)
        self.counters.claimed += len(claimed)
        if claimed:
            self._ready.extend(claimed)
            self._has_work.set()
        return claimed

    async def _idle(self, wakeups: Wakeups, queues: list[str], *, claimed: bool) -> None:
        """Wait for a wake-up, the poll timer, or the next scheduled task falling due."""
        timeout = self._timing.poll * random.uniform(0.9, 1.1)  # noqa: S311 - spreads polls
        if not claimed:
            try:
                due = await self._backend.seconds_until_due(queues)
            except QueueUnavailableError:
                due = None
            if due is not None and due > 0:
                timeout = min(timeout, due)
        if not wakeups.event.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await wakeups.event.wait()

    async def _drained(self, queues: list[str], claimed: list[ClaimedTask]) -> bool:
        """In `run_until_idle`: True once nothing is in hand and nothing is due."""
        if claimed or self._in_hand:
            await self._capacity.wait()
            return False
        await self._acks_done.wait()
        if self._succeeded or self._failed:
            return False
        due = await self._backend.seconds_until_due(queues)
        if due is not None and due <= 0:
            # Due but not claimable (a concurrency limit, a paused queue) counts as idle
            # only if a fresh claim confirms it.
            again = await self._claim(queues, 1)
            if again != []:
                return False
        self._stopping.set()
        return True

    # Running

    async def _runner(self) -> None:
        ready = self._ready
        while True:
            while not ready:
                if self._closing:
                    return
                self._has_work.clear()
                await self._has_work.wait()
            claimed = ready.popleft()
            try:
                outcome = await execute(claimed, self._registry, self._resolver, self.id)
            finally:
                self._in_hand -= 1
                self._capacity.set()
            self._record(claimed, outcome)

    def _record(self, claimed: ClaimedTask, outcome: Outcome) -> None:
        failure = outcome.failure
        if failure is None:
            self._succeeded.append(claimed.id)
        else:
            self._failed.append(failure)
            if outcome.timed_out:
                self.counters.timed_out += 1
        if not self._outcomes.is_set():
            self._acks_done.clear()
            self._outcomes.set()

    # Acknowledging

    async def _acknowledger(self) -> None:
        keep_done = self._timing.keep_done > 0
        while True:
            await self._outcomes.wait()
            self._outcomes.clear()
            succeeded, failed = self._succeeded, self._failed
            self._succeeded, self._failed = [], []
            ids = [*succeeded, *(f.id for f in failed)]
            self._acking.update(ids)
            try:
                matched = await self._retrying(
                    "acknowledge outcomes",
                    functools.partial(
                        self._backend.acknowledge, self.id, succeeded, failed, keep_done=keep_done
                    ),
                )
            finally:
                self._acking.difference_update(ids)
            self._held.difference_update(ids)
            self.counters.succeeded += len(succeeded)
            dead = sum(1 for f in failed if f.retry_in is None)
            self.counters.dead_lettered += dead
            self.counters.retried += len(failed) - dead
            lost = len(ids) - matched
            if lost:
                self.counters.lost_leases += lost
                logger.warning(
                    "worker %s: %d outcome(s) not recorded, the lease had expired and the "
                    "task may have run elsewhere too",
                    self.id, lost,
                )  # fmt: skip
            if not self._succeeded and not self._failed:
                self._acks_done.set()
                self._capacity.set()

    # Leases and maintenance

    async def _heartbeat(self) -> None:
        timing = self._timing
        while True:
            await asyncio.sleep(timing.heartbeat)
            async with self._claim_lock:
                held = list(self._held)
                try:
                    lost = await self._backend.extend_leases(self.id, held, timing.lease)
                except QueueUnavailableError as error:
                    self.counters.database_errors += 1
                    logger.warning("worker %s cannot renew its leases: %s", self.id, error)
                    continue
            really_lost = [i for i in lost if i in self._held and i not in self._acking]
            if really_lost:
                self.counters.lost_leases += len(really_lost)
                logger.warning(
                    "worker %s lost the lease of %d running task(s); they may run twice",
                    self.id, len(really_lost),
                )  # fmt: skip

    async def _maintenance(self) -> None:
        timing = self._timing
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + timing.prune * random.random()  # noqa: S311 - spreads work
        while True:
            try:
                recovered = await self._backend.recover_expired()
                if recovered:
                    self.counters.recovered += len(recovered)
                    logger.warning(
                        "worker %s recovered %d task(s) whose worker stopped renewing leases: %s",
                        self.id, len(recovered),
                        ", ".join(f"{r.name} {r.id} -> {r.state}" for r in recovered[:10]),
                    )  # fmt: skip
                if loop.time() >= next_prune:
                    next_prune = loop.time() + timing.prune
                    pruned = await self._backend.prune(timing.keep_done)
                    if pruned:
                        logger.info("worker %s pruned %d done task(s)", self.id, pruned)
            except QueueUnavailableError as error:
                self.counters.database_errors += 1
                logger.warning("worker %s: maintenance failed (retrying): %s", self.id, error)
            await asyncio.sleep(timing.maintenance)

    # Shutting down

    async def _shut_down(self) -> None:
        timing = self._timing
        # Tasks claimed but not started go back at once, so other workers can take them.
        unstarted = [claimed.id for claimed in self._ready]
        self._in_hand -= len(unstarted)
        self._ready.clear()
        self._closing = True
        self._has_work.set()
        if unstarted:
            await self._release(unstarted)
        if self._runners:
            _, pending = await asyncio.wait(self._runners, timeout=timing.shutdown)
            if pending:
                logger.warning(
                    "worker %s: %d task(s) still running after %.1fs; cancelling them",
                    self.id, len(pending), timing.shutdown,
                )  # fmt: skip
                for runner in pending:
                    runner.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
        # Record what finished, then hand back what was cancelled.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timing.shutdown, 5.0)):
                while self._succeeded or self._failed or not self._acks_done.is_set():
                    self._outcomes.set()
                    await self._acks_done.wait()
        leftover = [i for i in self._held if i not in self._acking]
        if leftover:
            await self._release(leftover)

    async def _release(self, ids: list[uuid.UUID]) -> None:
        # While they are handed back, a heartbeat must not count them as lost leases.
        self._acking.update(ids)
        try:
            async with asyncio.timeout(5.0):
                released = await self._retrying(
                    "release tasks", lambda: self._backend.release(self.id, ids)
                )
        except TimeoutError:
            logger.warning(
                "worker %s could not hand back %d task(s); they return when their lease "
                "expires",
                self.id, len(ids),
            )  # fmt: skip
            return
        finally:
            self._acking.difference_update(ids)
        self._held.difference_update(ids)
        self.counters.released += released

    # Database errors

    async def _retrying[R](self, what: str, operation: Callable[[], Awaitable[R]]) -> R:
        """Run `operation` until the database answers, backing off between tries."""
        backoff = 0.05
        while True:
            try:
                return await operation()
            except QueueUnavailableError as error:
                self.counters.database_errors += 1
                logger.warning("worker %s cannot %s (retrying): %s", self.id, what, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _pause(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stopping.wait()
