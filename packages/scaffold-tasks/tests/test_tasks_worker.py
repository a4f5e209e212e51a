"""The queue and the worker, with the same expectations on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import uuid
from typing import ClassVar

import pytest

from scaffold.tasks import (
    EnqueueRequest,
    RetryPolicy,
    Task,
    TaskFailedPermanentlyError,
    TaskQueue,
    TaskRegistry,
    TaskState,
    UnknownTaskError,
    Worker,
)
from scaffold.tasks._records import NewTask


@dataclasses.dataclass(frozen=True)
class Note(Task, name="test.note"):
    text: str
    at: datetime.datetime | None = None


class NoteHandler:
    seen: ClassVar[list[str]] = []

    async def handle(self, task: Note) -> None:
        NoteHandler.seen.append(task.text)
        if task.text.startswith("fail"):
            raise RuntimeError(f"cannot note {task.text}")
        if task.text.startswith("permanent"):
            raise TaskFailedPermanentlyError(f"{task.text} can never work")
        if task.text.startswith("slow"):
            await asyncio.sleep(float(task.text.split(":")[1]))


@pytest.fixture(autouse=True)
def _reset_handler() -> None:
    NoteHandler.seen = []


@pytest.fixture
def notes(registry: TaskRegistry) -> TaskRegistry:
    registry.register(
        Note, NoteHandler, max_attempts=3, retry=RetryPolicy(initial_delay=0, jitter=0), timeout=2
    )
    return registry


async def state_of(queue: TaskQueue, task_id: uuid.UUID | None) -> TaskState:
    assert task_id is not None
    info = await queue.admin.get(task_id)
    assert info is not None
    return info.state


class TestEnqueue:
    @pytest.mark.usefixtures("notes")
    async def test_enqueue_stores_a_queued_task(self, queue: TaskQueue):
        """A task is stored as JSON under its stable name, queued on its type's queue."""
        task_id = await queue.enqueue(Note("hello"))
        assert task_id is not None
        info = await queue.admin.get(task_id)
        assert info is not None
        assert (info.name, info.queue, info.state, info.attempts) == (
            "test.note",
            "default",
            TaskState.QUEUED,
            0,
        )
        assert info.max_attempts == 3
        assert '"text":"hello"' in info.payload

    async def test_unregistered_task_type_is_refused(self, queue: TaskQueue):
        """Enqueueing a task whose type was never registered names the type and the fix."""

        @dataclasses.dataclass(frozen=True)
        class Stranger:
            x: int

        with pytest.raises(UnknownTaskError, match=r"Stranger is not a registered task type"):
            await queue.enqueue(Stranger(1))

    @pytest.mark.usefixtures("notes")
    async def test_bad_options_are_refused(self, queue: TaskQueue):
        """Naive datetimes, run_at with delay, bad priorities and queues get clear errors."""
        naive = datetime.datetime(2030, 1, 1)  # noqa: DTZ001 - the point of the test
        with pytest.raises(ValueError, match="timezone-aware"):
            await queue.enqueue(Note("x"), run_at=naive)
        with pytest.raises(ValueError, match="not both"):
            await queue.enqueue(Note("x"), run_at=datetime.datetime.now(datetime.UTC), delay=1)
        with pytest.raises(ValueError, match="priority must be between"):
            await queue.enqueue(Note("x"), priority=10**6)
        with pytest.raises(ValueError, match="delay must be a finite duration"):
            await queue.enqueue(Note("x"), delay=-1)
        with pytest.raises(Exception, match="queue 'bad queue' is not valid"):
            await queue.enqueue(Note("x"), queue="bad queue")
        assert await queue.admin.list() == []

    @pytest.mark.usefixtures("notes")
    async def test_dedup_key_skips_while_unfinished(self, queue: TaskQueue, fast):
        """A dedup key matching a queued task skips the new one; once done it is free again."""
        first = await queue.enqueue(Note("a"), dedup_key="k")
        assert first is not None
        assert await queue.enqueue(Note("b"), dedup_key="k") is None
        await Worker(queue, settings=fast()).run_until_idle()
        assert NoteHandler.seen == ["a"]
        assert await queue.enqueue(Note("c"), dedup_key="k") is not None

    @pytest.mark.usefixtures("notes")
    async def test_enqueue_many_mixes_plain_tasks_and_requests(self, queue: TaskQueue):
        """A batch returns one entry per item: an id, or None where a dedup key matched."""
        ids = await queue.enqueue_many(
            [
                Note("plain"),
                EnqueueRequest(Note("keyed"), dedup_key="same"),
                EnqueueRequest(Note("again"), dedup_key="same"),
                EnqueueRequest(Note("other-queue"), queue="mail", priority=5),
            ]
        )
        assert ids[0] is not None
        assert ids[1] is not None
        assert ids[2] is None
        assert ids[3] is not None
        info = await queue.admin.get(ids[3])
        assert info is not None
        assert (info.queue, info.priority) == ("mail", 5)

    async def test_large_batch_is_stored_whole(self, queue: TaskQueue, notes: TaskRegistry):
        """A batch of plain tasks (COPY on PostgreSQL) stores every task, escapes included."""
        texts = [f't{i} \\ tab\there "quoted" ünï' for i in range(500)]
        ids = await queue.enqueue_many([Note(t) for t in texts])
        assert len({i for i in ids if i is not None}) == 500
        stored = await queue.admin.list(TaskState.QUEUED, limit=1000)
        definition = notes.for_task(Note("x"))
        assert sorted(t.payload for t in stored) == sorted(
            definition.encode(Note(t)) for t in texts
        )


@pytest.mark.usefixtures("notes")
async def test_a_bad_task_in_a_large_batch_writes_nothing(queue: TaskQueue):
    """A task that cannot be stored, deep inside a large batch, fails the whole batch."""
    tasks: list[object] = [Note(f"n{i}") for i in range(2500)]
    tasks[2300] = Note(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"cannot store task 'test\.note'"):
        await queue.enqueue_many(tasks)
    assert await queue.admin.counts() == []


class TestRunning:
    @pytest.mark.usefixtures("notes")
    async def test_worker_runs_tasks_and_keeps_them_done(self, queue: TaskQueue, fast):
        """Every due task runs once and is kept as done with its finish time."""
        ids = await queue.enqueue_many([Note(f"n{i}") for i in range(25)])
        counters = await Worker(queue, settings=fast(concurrency=4)).run_until_idle()
        assert sorted(NoteHandler.seen) == sorted(f"n{i}" for i in range(25))
        assert counters.succeeded == 25
        for task_id in ids:
            assert await state_of(queue, task_id) is TaskState.DONE

    @pytest.mark.usefixtures("notes")
    async def test_keep_done_zero_deletes_finished_tasks(self, queue: TaskQueue, fast):
        """With keep_done=0 a finished task's row is deleted at once."""
        task_id = await queue.enqueue(Note("gone"))
        await Worker(queue, settings=fast(keep_done=0)).run_until_idle()
        assert task_id is not None
        assert await queue.admin.get(task_id) is None

    @pytest.mark.usefixtures("notes")
    async def test_higher_priority_runs_first(self, queue: TaskQueue, fast):
        """Among due tasks, a higher priority is claimed first."""
        await queue.enqueue(Note("low"), priority=-1)
        await queue.enqueue(Note("normal"))
        await queue.enqueue(Note("high"), priority=10)
        await Worker(queue, settings=fast(concurrency=1)).run_until_idle()
        assert NoteHandler.seen == ["high", "normal", "low"]

    @pytest.mark.usefixtures("notes")
    async def test_scheduled_tasks_wait_for_their_time(self, queue: TaskQueue, fast):
        """A task with a delay or a future run_at is not claimed before it falls due."""
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        await queue.enqueue(Note("delayed"), delay=datetime.timedelta(hours=1))
        await queue.enqueue(Note("at"), run_at=later)
        await queue.enqueue(Note("past"), run_at=later - datetime.timedelta(days=1))
        await Worker(queue, settings=fast()).run_until_idle()
        assert NoteHandler.seen == ["past"]
        queued = await queue.admin.list(TaskState.QUEUED)
        assert len(queued) == 2
        assert all(t.run_at > datetime.datetime.now(datetime.UTC) for t in queued)

    @pytest.mark.usefixtures("notes")
    async def test_a_running_worker_picks_up_a_delayed_task_when_due(
        self, queue: TaskQueue, fast, eventually
    ):
        """An idle worker wakes for a task as its delay runs out."""
        worker = Worker(queue, settings=fast(poll_interval=30))
        async with worker.running():
            await queue.enqueue(Note("soon"), delay=0.3)
            await eventually(lambda: NoteHandler.seen == ["soon"], "the delayed task ran")

    @pytest.mark.usefixtures("notes")
    async def test_queues_are_separate(self, queue: TaskQueue, fast):
        """A worker takes tasks only from the queues it was given."""
        await queue.enqueue(Note("default"))
        await queue.enqueue(Note("mail"), queue="mail")
        await Worker(queue, settings=fast(queues=["mail"])).run_until_idle()
        assert NoteHandler.seen == ["mail"]


class TestFailures:
    @pytest.mark.usefixtures("notes")
    async def test_failing_task_is_retried_then_dead_lettered(self, queue: TaskQueue, fast):
        """A task that keeps failing runs max_attempts times, then is dead with its traceback."""
        task_id = await queue.enqueue(Note("fail-always"))
        worker = Worker(queue, settings=fast())
        for _ in range(5):
            await worker.run_until_idle()
        assert NoteHandler.seen == ["fail-always"] * 3
        assert task_id is not None
        info = await queue.admin.get(task_id)
        assert info is not None
        assert info.state is TaskState.DEAD
        assert info.attempts == 3
        assert info.finished_at is not None
        assert "Traceback" in (info.last_error or "")
        assert "RuntimeError: cannot note fail-always" in (info.last_error or "")

    async def test_retry_waits_for_the_backoff(self, queue: TaskQueue, registry: TaskRegistry):
        """After a failure the task waits its backoff delay before the next attempt."""
        registry.register(
            Note, NoteHandler, max_attempts=2, retry=RetryPolicy(initial_delay=3600, max_delay=7200)
        )
        task_id = await queue.enqueue(Note("fail-once"))
        await Worker(queue).run_until_idle()
        assert task_id is not None
        info = await queue.admin.get(task_id)
        assert info is not None
        assert info.state is TaskState.QUEUED
        assert info.attempts == 1
        wait = info.run_at - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(minutes=40) < wait <= datetime.timedelta(hours=1)

    @pytest.mark.usefixtures("notes")
    async def test_permanent_failure_is_dead_at_once(self, queue: TaskQueue, fast):
        """TaskFailedPermanentlyError dead-letters on the first attempt."""
        task_id = await queue.enqueue(Note("permanent"))
        await Worker(queue, settings=fast()).run_until_idle()
        assert NoteHandler.seen == ["permanent"]
        assert await state_of(queue, task_id) is TaskState.DEAD

    async def test_timeout_fails_the_attempt(self, queue: TaskQueue, registry: TaskRegistry):
        """An attempt longer than the task type's timeout fails with a message saying so."""
        registry.register(Note, NoteHandler, max_attempts=1, timeout=0.05)
        task_id = await queue.enqueue(Note("slow:5"))
        counters = await Worker(queue).run_until_idle()
        assert counters.timed_out == 1
        assert task_id is not None
        info = await queue.admin.get(task_id)
        assert info is not None
        assert info.state is TaskState.DEAD
        assert (info.last_error or "").startswith("timed out after 0.05s")

    @pytest.mark.usefixtures("notes")
    async def test_unknown_name_and_bad_payload_are_dead_lettered(self, queue: TaskQueue, fast):
        """A row naming no registered task, or whose payload does not validate, is dead with
        a clear error, and the worker goes on with the other tasks."""
        base = {"priority": 0, "max_attempts": 5}
        unknown = NewTask(uuid.uuid4(), "no.such.task", "default", "{}", **base)
        invalid = NewTask(uuid.uuid4(), "test.note", "default", '{"text": 42}', **base)
        await queue.backend.enqueue([unknown, invalid])
        await queue.enqueue(Note("fine"))
        await Worker(queue, settings=fast()).run_until_idle()
        assert NoteHandler.seen == ["fine"]
        dead = {t.id: t for t in await queue.admin.list(TaskState.DEAD)}
        assert "no task type is registered under the name 'no.such.task'" in (
            dead[unknown.id].last_error or ""
        )
        assert "registered: test.note" in (dead[unknown.id].last_error or "")
        assert "does not validate as Note" in (dead[invalid.id].last_error or "")
        assert dead[unknown.id].attempts == 1

    async def test_handler_without_default_constructor_fails_clearly(
        self, queue: TaskQueue, registry: TaskRegistry
    ):
        """Without a resolver, a handler that needs arguments fails with the fix in the error."""

        class NeedsService:
            def __init__(self, service: object) -> None:
                self.service = service

            async def handle(self, task: Note) -> None:
                pass

        registry.register(Note, NeedsService, max_attempts=1)
        task_id = await queue.enqueue(Note("x"))
        await Worker(queue).run_until_idle()
        assert task_id is not None
        info = await queue.admin.get(task_id)
        assert info is not None
        assert "resolver=ContainerResolver(container)" in (info.last_error or "")


class TestLeases:
    @pytest.mark.usefixtures("notes")
    async def test_a_dead_workers_task_is_recovered_and_completed(self, queue: TaskQueue, fast):
        """A task claimed by a worker that never reports back runs elsewhere after its lease."""
        task_id = await queue.enqueue(Note("orphan"))
        claimed = await queue.backend.claim("dead-worker", ["default"], 10, 0.2)
        assert [c.id for c in claimed] == [task_id]
        await asyncio.sleep(0.3)
        worker = Worker(queue, settings=fast())
        async with worker.running():
            await eventually_done(queue, task_id)
        assert NoteHandler.seen == ["orphan"]
        assert worker.counters.recovered == 1
        info = await queue.admin.get(task_id)
        assert info is not None
        assert info.attempts == 2
        assert "worker dead-worker stopped renewing its lease" in (info.last_error or "")

    async def test_lost_lease_on_last_attempt_dead_letters(
        self, queue: TaskQueue, registry: TaskRegistry
    ):
        """A task whose worker died on its last attempt is dead-lettered, not run again."""
        registry.register(Note, NoteHandler, max_attempts=1)
        task_id = await queue.enqueue(Note("crasher"))
        await queue.backend.claim("dead-worker", ["default"], 10, 0.05)
        await asyncio.sleep(0.1)
        recovered = await queue.backend.recover_expired()
        assert [(r.id, r.state) for r in recovered] == [(task_id, TaskState.DEAD)]

    @pytest.mark.usefixtures("notes")
    async def test_heartbeat_keeps_a_long_task_leased(self, queue: TaskQueue, fast):
        """A task running longer than its lease is not taken over while its worker lives."""
        task_id = await queue.enqueue(Note("slow:1.8"))
        worker = Worker(queue, settings=fast(lease=1.0, heartbeat_interval=0.1))
        await worker.run_until_idle()
        assert NoteHandler.seen == ["slow:1.8"]
        assert worker.counters.recovered == 0
        assert worker.counters.lost_leases == 0
        info = await queue.admin.get(task_id)
        assert info is not None
        assert (info.state, info.attempts) == (TaskState.DONE, 1)

    @pytest.mark.usefixtures("notes")
    async def test_outcome_of_a_lost_lease_is_not_recorded(self, queue: TaskQueue):
        """An acknowledgement from a worker that no longer holds the lease changes nothing."""
        task_id = await queue.enqueue(Note("x"))
        assert task_id is not None
        await queue.backend.claim("old", ["default"], 1, 0.01)
        await asyncio.sleep(0.05)
        await queue.backend.recover_expired()
        await queue.backend.claim("new", ["default"], 1, 30)
        matched = await queue.backend.acknowledge("old", [task_id], [], keep_done=True)
        assert matched == 0
        info = await queue.admin.get(task_id)
        assert info is not None
        assert (info.state, info.worker_id) == (TaskState.RUNNING, "new")


class TestShutdown:
    @pytest.mark.usefixtures("notes")
    async def test_graceful_stop_finishes_running_and_releases_the_rest(
        self, queue: TaskQueue, fast, eventually
    ):
        """On stop, running tasks finish; claimed but unstarted ones go back with no attempt
        counted, ready for another worker."""
        # Long enough that the test stops the worker before the first two finish.
        await queue.enqueue_many([Note("slow:1") for _ in range(6)])
        worker = Worker(queue, settings=fast(concurrency=2, batch_size=6))
        task = asyncio.create_task(worker.run(handle_signals=False))
        await eventually(lambda: len(NoteHandler.seen) == 2, "two tasks started")
        worker.stop()
        await task
        states = sorted(str(t.state) for t in await queue.admin.list(list(TaskState)))
        assert states == ["done", "done", "queued", "queued", "queued", "queued"]
        assert all(t.attempts == 0 for t in await queue.admin.list(TaskState.QUEUED))
        assert worker.counters.released == 4

    @pytest.mark.usefixtures("notes")
    async def test_tasks_beyond_the_shutdown_timeout_are_cancelled_and_released(
        self, queue: TaskQueue, fast, eventually
    ):
        """A task still running when the shutdown timeout ends is cancelled and requeued."""
        task_id = await queue.enqueue(Note("slow:60"))
        worker = Worker(queue, settings=fast(shutdown_timeout=0.1))
        task = asyncio.create_task(worker.run(handle_signals=False))
        await eventually(lambda: NoteHandler.seen == ["slow:60"], "the task started")
        worker.stop()
        await task
        info = await queue.admin.get(task_id)
        assert info is not None
        assert (info.state, info.attempts, info.worker_id) == (TaskState.QUEUED, 0, None)

    @pytest.mark.usefixtures("notes")
    async def test_stop_before_the_run_starts_is_kept(self, queue: TaskQueue):
        """A stop asked for before the background run got going still ends it."""
        worker = Worker(queue)
        async with worker.running():
            pass  # leaves at once: stop() comes before the task has started
        assert not worker._running

    async def test_worker_refuses_to_run_twice_at_once(self, queue: TaskQueue):
        """Running one Worker object twice concurrently is an error."""
        worker = Worker(queue)
        async with worker.running():
            await asyncio.sleep(0.05)
            with pytest.raises(RuntimeError, match="already running"):
                await worker.run_until_idle()


class TestConcurrencyLimits:
    async def test_limit_caps_running_tasks_of_a_type(
        self, queue: TaskQueue, registry: TaskRegistry, fast
    ):
        """No more tasks of a limited type run at once than its limit, however many runners."""
        running = 0
        peak = 0

        @dataclasses.dataclass(frozen=True)
        class Limited:
            n: int

        class LimitedHandler:
            async def handle(self, _: Limited) -> None:
                nonlocal running, peak
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0.02)
                running -= 1

        registry.register(Limited, LimitedHandler, name="test.limited", concurrency=2)
        registry.register(Note, NoteHandler)
        await queue.enqueue_many([Limited(i) for i in range(12)])
        await queue.enqueue_many([Note(f"free{i}") for i in range(5)])
        counters = await Worker(queue, settings=fast(concurrency=10)).run_until_idle()
        assert counters.succeeded == 17
        assert peak == 2

    async def test_removing_a_limit_lifts_it(self, queue: TaskQueue, registry: TaskRegistry):
        """A worker whose registry has no limit for a type deletes the stored limit."""
        registry.register(Note, NoteHandler, concurrency=1)
        await queue.backend.set_concurrency_limits({"test.note": 1})
        await queue.backend.set_concurrency_limits({"test.note": 0})
        await queue.enqueue_many([Note("a"), Note("b")])
        claimed = await queue.backend.claim("w", ["default"], 10, 30)
        assert len(claimed) == 2


class TestAdmin:
    @pytest.mark.usefixtures("notes")
    async def test_pause_and_resume(self, queue: TaskQueue, fast):
        """A paused queue's tasks are not claimed until it is resumed."""
        await queue.enqueue(Note("held"))
        await queue.admin.pause("default")
        assert await queue.admin.paused() == ["default"]
        await Worker(queue, settings=fast()).run_until_idle()
        assert NoteHandler.seen == []
        await queue.admin.resume("default")
        await Worker(queue, settings=fast()).run_until_idle()
        assert NoteHandler.seen == ["held"]

    @pytest.mark.usefixtures("notes")
    async def test_retry_and_purge_dead_tasks(self, queue: TaskQueue, fast):
        """Dead tasks can be queued again (fresh attempts) or deleted, by id or all at once."""
        first = await queue.enqueue(Note("permanent-1"))
        second = await queue.enqueue(Note("permanent-2"))
        await Worker(queue, settings=fast()).run_until_idle()
        assert [c.count for c in await queue.admin.counts()] == [2]
        assert first is not None
        assert second is not None
        assert await queue.admin.retry_dead([first]) == 1
        info = await queue.admin.get(first)
        assert info is not None
        assert (info.state, info.attempts, info.finished_at) == (TaskState.QUEUED, 0, None)
        assert await queue.admin.purge_dead() == 1
        assert await queue.admin.get(second) is None
        assert await queue.admin.retry_dead() == 0

    @pytest.mark.usefixtures("notes")
    async def test_list_filters_by_state_and_queue(self, queue: TaskQueue):
        """Listing shows the requested states and queue, oldest first, up to the limit."""
        a = await queue.enqueue(Note("a"))
        b = await queue.enqueue(Note("b"), queue="mail")
        c = await queue.enqueue(Note("c"))
        assert [t.id for t in await queue.admin.list()] == [a, b, c]
        assert [t.id for t in await queue.admin.list(queue="mail")] == [b]
        assert [t.id for t in await queue.admin.list("queued", limit=1)] == [a]
        assert await queue.admin.list(TaskState.DEAD) == []
        counts = {(c.queue, c.state): c.count for c in await queue.admin.counts()}
        assert counts == {("default", TaskState.QUEUED): 2, ("mail", TaskState.QUEUED): 1}
        assert await queue.admin.purge_queued(queue="mail") == 1

    @pytest.mark.usefixtures("notes")
    async def test_prune_deletes_old_done_tasks_only(self, queue: TaskQueue, fast):
        """Pruning removes done tasks older than the cut-off and keeps everything else."""
        await queue.enqueue_many([Note("a"), Note("b"), Note("permanent")])
        await Worker(queue, settings=fast()).run_until_idle()
        assert await queue.admin.prune(3600) == 0
        await asyncio.sleep(0.05)
        assert await queue.admin.prune(0.01) == 2
        assert [t.state for t in await queue.admin.list(list(TaskState))] == [TaskState.DEAD]


async def eventually_done(queue: TaskQueue, task_id: uuid.UUID | None) -> None:
    assert task_id is not None
    for _ in range(2000):
        info = await queue.admin.get(task_id)
        if info is not None and info.state is TaskState.DONE:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"task {task_id} never finished")


@pytest.mark.usefixtures("notes")
async def test_sqlite_worker_hears_other_processes(make_backend, registry, fast, eventually):
    """On SQLite a worker wakes for tasks written through another connection (another
    process), without waiting for its poll interval."""
    worker_queue = TaskQueue(make_backend("sqlite"), registry)
    other_queue = TaskQueue(make_backend("sqlite"), registry)
    await worker_queue.migrate()
    worker = Worker(worker_queue, settings=fast(poll_interval=300))
    try:
        async with worker.running():
            await asyncio.sleep(0.2)
            await other_queue.enqueue(Note("from elsewhere"))
            await eventually(lambda: NoteHandler.seen == ["from elsewhere"], "the task ran")
    finally:
        await worker_queue.close()
        await other_queue.close()
