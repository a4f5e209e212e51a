"""One request through a ~10-class graph, in scaffold-di, its peers and by hand.

A request opens a scope, resolves `Handler` and closes the scope. The graph has three
singletons (Settings, Engine, Cache), six scoped services (Session, made by a generator
factory that cleans up, UserRepository, OrderRepository, UnitOfWork, OrderService,
Handler) and one transient (Clock) injected twice. The async variant makes the session
with an async generator. Every container runs with its defaults for validation and
thread safety; diwire is measured a second time with its locks turned off, as its own
benchmarks do.

Run from the repository root:  uv run python benchmarks/di/run.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

# The graph -------------------------------------------------------------------------------


class Settings:
    def __init__(self) -> None:
        self.url = "sqlite://"


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class Cache:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class Session:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.closed = False


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session


class UnitOfWork:
    def __init__(self, session: Session, users: UserRepository, orders: OrderRepository) -> None:
        self.session = session
        self.users = users
        self.orders = orders


class Clock:
    pass


class OrderService:
    def __init__(self, uow: UnitOfWork, cache: Cache, clock: Clock) -> None:
        self.uow = uow
        self.cache = cache
        self.clock = clock


class Handler:
    def __init__(self, service: OrderService, users: UserRepository, clock: Clock) -> None:
        self.service = service
        self.users = users
        self.clock = clock


def open_session(engine: Engine) -> Iterator[Session]:
    session = Session(engine)
    try:
        yield session
    finally:
        session.closed = True


async def open_async_session(engine: Engine) -> AsyncIterator[Session]:
    session = Session(engine)
    try:
        yield session
    finally:
        session.closed = True


SINGLETONS = (Settings, Engine, Cache)
SCOPED = (UserRepository, OrderRepository, UnitOfWork, OrderService, Handler)

type SyncRequest = Callable[[], Handler]
type AsyncRequest = Callable[[], Awaitable[Handler]]

# Each library: build the container once, return one request -------------------------------


def handwritten_sync() -> SyncRequest:
    settings = Settings()
    engine = Engine(settings)
    cache = Cache(settings)

    def request() -> Handler:
        generator = open_session(engine)
        session = next(generator)
        try:
            users = UserRepository(session)
            orders = OrderRepository(session)
            uow = UnitOfWork(session, users, orders)
            service = OrderService(uow, cache, Clock())
            return Handler(service, users, Clock())
        finally:
            next(generator, None)

    return request


def handwritten_async() -> AsyncRequest:
    settings = Settings()
    engine = Engine(settings)
    cache = Cache(settings)

    async def request() -> Handler:
        generator = open_async_session(engine)
        session = await anext(generator)
        try:
            users = UserRepository(session)
            orders = OrderRepository(session)
            uow = UnitOfWork(session, users, orders)
            service = OrderService(uow, cache, Clock())
            return Handler(service, users, Clock())
        finally:
            await anext(generator, None)

    return request


def scaffold_container(*, is_async: bool) -> object:
    from scaffold.di import Container  # noqa: PLC0415 - each library is imported where it is used

    container = Container()  # validation on (the default), singletons created under a lock
    for cls in SINGLETONS:
        container.add_singleton(cls)
    container.add_scoped(Session, open_async_session if is_async else open_session)
    for cls in SCOPED:
        container.add_scoped(cls)
    container.add_transient(Clock)
    container.validate()
    return container


def scaffold_sync() -> SyncRequest:
    container = scaffold_container(is_async=False)

    def request() -> Handler:
        with container.sync_scope() as scope:  # type: ignore[attr-defined]
            return scope.resolve(Handler)  # type: ignore[no-any-return]

    return request


def scaffold_async() -> AsyncRequest:
    container = scaffold_container(is_async=True)

    async def request() -> Handler:
        async with container.scope() as scope:  # type: ignore[attr-defined]
            return await scope.aresolve(Handler)  # type: ignore[no-any-return]

    return request


def dishka_provider(*, is_async: bool) -> object:
    from dishka import Provider, Scope  # noqa: PLC0415

    provider = Provider()
    for cls in SINGLETONS:
        provider.provide(cls, scope=Scope.APP)
    provider.provide(
        open_async_session if is_async else open_session, scope=Scope.REQUEST, provides=Session
    )
    for cls in SCOPED:
        provider.provide(cls, scope=Scope.REQUEST)
    provider.provide(Clock, scope=Scope.REQUEST, cache=False)
    return provider


def dishka_sync() -> SyncRequest:
    from dishka import make_container  # noqa: PLC0415

    container = make_container(dishka_provider(is_async=False))

    def request() -> Handler:
        with container() as scope:
            return scope.get(Handler)

    return request


def dishka_async() -> AsyncRequest:
    from dishka import make_async_container  # noqa: PLC0415

    container = make_async_container(dishka_provider(is_async=True))

    async def request() -> Handler:
        async with container() as scope:
            return await scope.get(Handler)

    return request


def wireup_injectables(*, is_async: bool) -> list[object]:
    import wireup  # noqa: PLC0415

    def session_factory(engine: Engine) -> Iterator[Session]:
        yield from open_session(engine)

    async def async_session_factory(engine: Engine) -> AsyncIterator[Session]:
        async for session in open_async_session(engine):
            yield session

    # wireup marks what it registers; thin subclasses keep the shared classes unmarked.
    return [
        *(wireup.injectable(cls) for cls in SINGLETONS),
        wireup.injectable(
            async_session_factory if is_async else session_factory, lifetime="scoped"
        ),
        *(wireup.injectable(cls, lifetime="scoped") for cls in SCOPED),
        wireup.injectable(Clock, lifetime="transient"),
    ]


def wireup_sync() -> SyncRequest:
    import wireup  # noqa: PLC0415

    container = wireup.create_sync_container(injectables=wireup_injectables(is_async=False))

    def request() -> Handler:
        with container.enter_scope() as scope:
            return scope.get(Handler)

    return request


def wireup_async() -> AsyncRequest:
    import wireup  # noqa: PLC0415

    container = wireup.create_async_container(injectables=wireup_injectables(is_async=True))

    async def request() -> Handler:
        async with container.enter_scope() as scope:
            return await scope.get(Handler)

    return request


def diwire_container(*, is_async: bool, locks: bool) -> object:
    import diwire  # noqa: PLC0415

    # Strict mode, as diwire's own benchmarks configure it: everything registered
    # explicitly, no resolver context, compiled once up front.
    container = diwire.Container(
        missing_policy=diwire.MissingPolicy.ERROR,
        dependency_registration_policy=diwire.DependencyRegistrationPolicy.IGNORE,
        use_resolver_context=False,
        lock_mode="auto" if locks else diwire.LockMode.NONE,
    )
    for cls in SINGLETONS:
        container.add(cls, scope=diwire.Scope.APP, lifetime=diwire.Lifetime.SCOPED)
    container.add_generator(
        open_async_session if is_async else open_session,
        provides=Session,
        scope=diwire.Scope.REQUEST,
        lifetime=diwire.Lifetime.SCOPED,
    )
    for cls in SCOPED:
        container.add(cls, scope=diwire.Scope.REQUEST, lifetime=diwire.Lifetime.SCOPED)
    container.add(Clock, scope=diwire.Scope.REQUEST, lifetime=diwire.Lifetime.TRANSIENT)
    container.compile()
    return container


def diwire_sync(*, locks: bool) -> SyncRequest:
    import diwire  # noqa: PLC0415

    container = diwire_container(is_async=False, locks=locks)
    request_scope = diwire.Scope.REQUEST

    def request() -> Handler:
        with container.enter_scope(request_scope) as scope:  # type: ignore[attr-defined]
            return scope.resolve(Handler)  # type: ignore[no-any-return]

    return request


def diwire_async(*, locks: bool) -> AsyncRequest:
    import diwire  # noqa: PLC0415

    container = diwire_container(is_async=True, locks=locks)
    request_scope = diwire.Scope.REQUEST

    async def request() -> Handler:
        async with container.enter_scope(request_scope) as scope:  # type: ignore[attr-defined]
            return await scope.aresolve(Handler)  # type: ignore[no-any-return]

    return request


SYNC: dict[str, Callable[[], SyncRequest]] = {
    "hand-written": handwritten_sync,
    "scaffold-di": scaffold_sync,
    "dishka": dishka_sync,
    "wireup": wireup_sync,
    "diwire": lambda: diwire_sync(locks=True),
    "diwire (locks off)": lambda: diwire_sync(locks=False),
}
ASYNC: dict[str, Callable[[], AsyncRequest]] = {
    "hand-written": handwritten_async,
    "scaffold-di": scaffold_async,
    "dishka": dishka_async,
    "wireup": wireup_async,
    "diwire": lambda: diwire_async(locks=True),
    "diwire (locks off)": lambda: diwire_async(locks=False),
}

# Checking that every library does the same work ------------------------------------------


def check(handler: Handler, name: str) -> None:
    session = handler.users.session
    problems = []
    if handler.service.uow.users is not handler.users:
        problems.append("UserRepository is not shared within the scope")
    if (
        handler.service.uow.orders.session is not session
        or handler.service.uow.session is not session
    ):
        problems.append("Session is not shared within the scope")
    if handler.clock is handler.service.clock:
        problems.append("Clock is not transient")
    if not session.closed:
        problems.append("the session generator was not cleaned up")
    if problems:
        sys.exit(f"{name}: {'; '.join(problems)}")


# Measuring ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    samples: list[float]

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def time_sync(request: SyncRequest, count: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(count):
        request()
    return (time.perf_counter_ns() - start) / count / 1000


async def time_async(request: AsyncRequest, count: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(count):
        await request()
    return (time.perf_counter_ns() - start) / count / 1000


def measure_sync(count: int, rounds: int) -> list[Result]:
    requests = {name: make() for name, make in SYNC.items()}
    for name, request in requests.items():
        check(request(), name)
        time_sync(request, count // 10)  # warm up
    results = {name: Result(name, []) for name in requests}
    gc.collect()
    for _ in range(rounds):  # round-robin, so load on the machine hits every library alike
        for name, request in requests.items():
            results[name].samples.append(time_sync(request, count))
    return list(results.values())


async def measure_async(count: int, rounds: int) -> list[Result]:
    requests = {name: make() for name, make in ASYNC.items()}
    for name, request in requests.items():
        check(await request(), name)
        await time_async(request, count // 10)
    results = {name: Result(name, []) for name in requests}
    gc.collect()
    for _ in range(rounds):
        for name, request in requests.items():
            results[name].samples.append(await time_async(request, count))
    return list(results.values())


def report(title: str, results: list[Result]) -> None:
    baseline = results[0].best
    print(f"\n{title}")
    print(f"  {'':20} {'best µs':>9} {'median µs':>10} {'x hand-written':>15}")
    for result in sorted(results, key=lambda r: r.best):
        ratio = result.best / baseline
        print(f"  {result.name:20} {result.best:9.2f} {result.median:10.2f} {ratio:14.2f}x")


def versions() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    names = ("scaffold-di", "dishka", "wireup", "diwire")
    return ", ".join(f"{name} {version(name)}" for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, for a smoke run")
    parser.add_argument("--count", type=int, default=2_000, help="requests per sample")
    parser.add_argument("--rounds", type=int, default=150, help="samples per library")
    arguments = parser.parse_args()
    count, rounds = (1_000, 10) if arguments.quick else (arguments.count, arguments.rounds)
    print(f"Python {platform.python_version()} on {platform.machine()}; {versions()}")
    print(
        f"{rounds} samples of {count} requests per library, taken round-robin; the best sample "
        "(least disturbed by other load on the machine) and the median"
    )
    report("sync: with scope: resolve(Handler)", measure_sync(count, rounds))
    report(
        "async: async with scope: await aresolve(Handler)",
        asyncio.run(measure_async(count, rounds)),
    )


if __name__ == "__main__":
    main()
