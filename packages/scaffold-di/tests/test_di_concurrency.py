"""Concurrency: singletons created exactly once across threads and coroutines."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from scaffold.di import Container


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def bump(self) -> None:
        with self.lock:
            self.calls += 1


class Engine:
    pass


class Session:
    pass


class TestThreads:
    def test_singleton_created_once_under_contention(self) -> None:
        """Threads asking for a slow singleton at the same moment all get one instance."""
        counter = Counter()
        start = threading.Barrier(8)

        def make_engine() -> Engine:
            counter.bump()
            time.sleep(0.05)  # wide window for a second creation, were there no lock
            return Engine()

        container = Container()
        container.add_singleton(Engine, make_engine)
        container.validate()

        def resolve() -> Engine:
            start.wait()
            return container.resolve(Engine)

        with ThreadPoolExecutor(8) as pool:
            engines = list(pool.map(lambda _: resolve(), range(8)))
        assert counter.calls == 1
        assert all(engine is engines[0] for engine in engines)

    def test_async_singleton_created_once_across_event_loops(self) -> None:
        """Threads running their own event loops share one async-created singleton."""
        counter = Counter()
        start = threading.Barrier(4)

        async def make_engine() -> Engine:
            counter.bump()
            await asyncio.sleep(0.05)
            return Engine()

        container = Container()
        container.add_singleton(Engine, make_engine)
        container.validate()

        def resolve() -> Engine:
            start.wait()
            return asyncio.run(container.aresolve(Engine))  # type: ignore[arg-type]

        with ThreadPoolExecutor(4) as pool:
            engines = list(pool.map(lambda _: resolve(), range(4)))
        assert counter.calls == 1
        assert all(engine is engines[0] for engine in engines)

    def test_overrides_are_isolated_per_thread(self) -> None:
        """An override in one thread is not seen by another thread."""
        container = Container()
        container.add_singleton(Engine)
        fake = Engine()
        entered = threading.Event()
        release = threading.Event()
        seen: dict[str, Engine] = {}

        def with_override() -> None:
            with container.override(Engine, fake):
                entered.set()
                release.wait(5)
                seen["override"] = container.resolve(Engine)

        thread = threading.Thread(target=with_override)
        thread.start()
        entered.wait(5)
        seen["plain"] = container.resolve(Engine)
        release.set()
        thread.join(5)
        assert seen["override"] is fake
        assert seen["plain"] is not fake


class TestCoroutines:
    async def test_async_singleton_created_once(self) -> None:
        """Many coroutines awaiting an async singleton's first creation share one instance."""
        counter = Counter()

        async def make_engine() -> Engine:
            counter.bump()
            await asyncio.sleep(0.01)
            return Engine()

        container = Container()
        container.add_singleton(Engine, make_engine)
        engines = await asyncio.gather(*(container.aresolve(Engine) for _ in range(20)))
        assert counter.calls == 1
        assert all(engine is engines[0] for engine in engines)

    async def test_creator_cancelled_waiters_carry_on(self) -> None:
        """If the coroutine creating a singleton is cancelled, a waiter creates it instead."""
        counter = Counter()
        first_started = asyncio.Event()

        async def make_engine() -> Engine:
            counter.bump()
            first_started.set()
            await asyncio.sleep(0.05)
            return Engine()

        container = Container()
        container.add_singleton(Engine, make_engine)
        first = asyncio.ensure_future(container.aresolve(Engine))
        await first_started.wait()
        second = asyncio.ensure_future(container.aresolve(Engine))
        await asyncio.sleep(0)
        first.cancel()
        engine = await second
        assert isinstance(engine, Engine)
        assert counter.calls == 2
        assert await container.aresolve(Engine) is engine

    async def test_scoped_async_service_created_once_per_scope(self) -> None:
        """Tasks sharing a scope (one websocket, two tasks) get one scoped instance."""
        counter = Counter()

        async def open_session() -> AsyncIterator[Session]:
            counter.bump()
            await asyncio.sleep(0.01)
            yield Session()

        container = Container()
        container.add_scoped(Session, open_session)
        async with container.scope() as scope, asyncio.TaskGroup() as group:
            tasks = [group.create_task(scope.aresolve(Session)) for _ in range(5)]  # type: ignore[arg-type]
        sessions = [task.result() for task in tasks]
        assert counter.calls == 1
        assert all(session is sessions[0] for session in sessions)
