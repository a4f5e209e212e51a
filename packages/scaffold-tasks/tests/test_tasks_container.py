"""Handlers from a scaffold-di container: a scope per execution, cleaned up every time."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from scaffold.di import Container
from scaffold.tasks import (
    ContainerResolver,
    GenericBaseTaskHandler,
    Task,
    TaskContext,
    TaskQueue,
    TaskState,
    Worker,
)


@dataclasses.dataclass(frozen=True)
class Greet(Task, name="test.greet"):
    name: str


class UnitOfWork:
    """A scoped service with a clean-up, like a database session."""

    opened: list[UnitOfWork] = []  # noqa: RUF012 - a test's record

    def __init__(self) -> None:
        self.closed = False
        self.log: list[str] = []
        UnitOfWork.opened.append(self)


async def unit_of_work() -> AsyncIterator[UnitOfWork]:
    uow = UnitOfWork()
    try:
        yield uow
    finally:
        uow.closed = True


class Greeter:
    """An application service the handler depends on."""

    def __init__(self, uow: UnitOfWork, context: TaskContext) -> None:
        self.uow = uow
        self.context = context

    async def greet(self, name: str) -> None:
        if name == "nobody":
            raise LookupError("no one to greet")
        self.uow.log.append(f"hello {name} (attempt {self.context.attempt})")


class GreetHandler(GenericBaseTaskHandler[Greet]):
    def __init__(self, greeter: Greeter) -> None:
        self.greeter = greeter

    async def handle(self, task: Greet) -> None:
        await self.greeter.greet(task.name)


@pytest.fixture
def container() -> Container:
    UnitOfWork.opened = []
    container = Container()
    container.add_scoped(UnitOfWork, unit_of_work)
    container.add_scoped(Greeter)
    container.add_scoped(GreetHandler)
    return container


async def test_each_execution_gets_its_own_scope(queue: TaskQueue, registry, container, fast):
    """Every task runs in a fresh scope whose clean-ups run when it ends, also on failure,
    and the task's context is injectable."""
    registry.register(Greet, GreetHandler, max_attempts=1)
    await queue.enqueue_many([Greet("ada"), Greet("grace"), Greet("nobody")])
    resolver = ContainerResolver(container)
    counters = await Worker(queue, resolver=resolver, settings=fast(concurrency=1)).run_until_idle()
    assert (counters.succeeded, counters.dead_lettered) == (2, 1)
    assert len(UnitOfWork.opened) == 3
    assert all(uow.closed for uow in UnitOfWork.opened)
    logs = sorted(line for uow in UnitOfWork.opened for line in uow.log)
    assert logs == ["hello ada (attempt 1)", "hello grace (attempt 1)"]
    dead = await queue.admin.list(TaskState.DEAD)
    assert "LookupError: no one to greet" in (dead[0].last_error or "")


async def test_container_validates_with_task_context(container):
    """The resolver declares TaskContext, so the container's validation accepts handlers
    that need it."""
    ContainerResolver(container)
    container.validate()


async def test_resolution_errors_fail_the_attempt(queue: TaskQueue, registry, fast):
    """A handler the container cannot build fails its attempts with the container's error."""
    registry.register(Greet, GreetHandler, max_attempts=1)
    await queue.enqueue(Greet("ada"))
    resolver = ContainerResolver(Container())
    await Worker(queue, resolver=resolver, settings=fast()).run_until_idle()
    dead = await queue.admin.list(TaskState.DEAD)
    assert "GreetHandler" in (dead[0].last_error or "")
