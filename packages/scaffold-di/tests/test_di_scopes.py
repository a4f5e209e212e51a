"""Scopes: one instance per scope, nesting, context values, generator cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from scaffold.di import Container, ResolutionError, Scope


class Request:
    def __init__(self, path: str) -> None:
        self.path = path


class Session:
    def __init__(self) -> None:
        self.events: list[str] = []


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session


class Handler:
    def __init__(self, repository: Repository, session: Session) -> None:
        self.repository = repository
        self.session = session


def make_container() -> Container:
    container = Container()
    container.add_scoped(Session)
    container.add_scoped(Repository)
    container.add_transient(Handler)
    return container


class TestScopedInstances:
    async def test_one_instance_per_scope(self) -> None:
        """Within a scope a scoped service is shared; another scope gets its own."""
        container = make_container()
        async with container.scope() as scope:
            handler = await scope.aresolve(Handler)
            assert handler.repository.session is handler.session
            assert scope.resolve(Session) is handler.session
            assert scope.resolve(Handler) is not handler  # transient
        async with container.scope() as other:
            assert other.resolve(Session) is not handler.session

    def test_sync_scope(self) -> None:
        """sync_scope() works in synchronous code the same way."""
        container = make_container()
        with container.sync_scope() as scope:
            assert scope[Handler].session is scope[Session]

    async def test_nested_scope_has_its_own_instances(self) -> None:
        """A nested scope creates its own scoped instances."""
        container = make_container()
        async with container.scope() as outer, outer.scope() as inner:
            assert inner.resolve(Session) is not outer.resolve(Session)

    def test_closed_scope_refuses(self) -> None:
        """Resolving from a scope after it closed is an error."""
        container = make_container()
        with container.sync_scope() as scope:
            pass
        with pytest.raises(ResolutionError, match=r"this scope is closed"):
            scope.resolve(Session)

    async def test_async_scope_needs_async_with(self) -> None:
        """`with container.scope()` is refused with a pointer to the right form."""
        container = make_container()
        scope = container.scope()
        with pytest.raises(ResolutionError, match=r"use `async with container.scope\(\)`"):
            scope.__enter__()

    def test_sync_scope_refuses_aresolve(self) -> None:
        """A sync scope has no async path."""
        container = make_container()
        with (
            container.sync_scope() as scope,
            pytest.raises(ResolutionError, match=r"opened with sync_scope\(\)"),
        ):
            scope.aresolve(Session)

    async def test_scope_is_injectable(self) -> None:
        """A provider may ask for the current Scope."""

        class UsesScope:
            def __init__(self, scope: Scope) -> None:
                self.scope = scope

        container = make_container()
        container.add_scoped(UsesScope)
        async with container.scope() as scope:
            assert scope.resolve(UsesScope).scope is scope


class TestContext:
    async def test_context_values_are_injected(self) -> None:
        """Values given to scope(context=...) are injected by type inside that scope."""

        class Controller:
            def __init__(self, request: Request) -> None:
                self.request = request

        container = Container()
        container.add_context(Request)
        container.add_transient(Controller)
        request = Request("/")
        async with container.scope(context={Request: request}) as scope:
            assert (await scope.aresolve(Controller)).request is request
            assert scope.resolve(Request) is request
            async with scope.scope() as inner:
                assert inner.resolve(Controller).request is request

    async def test_missing_context_value(self) -> None:
        """A declared context type missing from the scope is reported by name."""

        class Controller:
            def __init__(self, request: Request) -> None:
                self.request = request

        container = Container()
        container.add_context(Request)
        container.add_transient(Controller)
        async with container.scope() as scope:
            with pytest.raises(ResolutionError, match=r"Request is declared as scope context"):
                scope.resolve(Controller)


class TestCleanup:
    async def test_generators_close_in_reverse_order(self) -> None:
        """Generator factories clean up when the scope closes, newest first."""
        events: list[str] = []

        def make_session() -> Iterator[Session]:
            events.append("session opened")
            yield Session()
            events.append("session closed")

        async def make_repository(session: Session) -> AsyncIterator[Repository]:
            events.append("repository opened")
            yield Repository(session)
            events.append("repository closed")

        container = Container()
        container.add_scoped(Session, make_session)
        container.add_scoped(Repository, make_repository)
        async with container.scope() as scope:
            await scope.aresolve(Repository)
            events.append("body")
        assert events == [
            "session opened",
            "repository opened",
            "body",
            "repository closed",
            "session closed",
        ]

    def test_cleanup_sees_the_error(self) -> None:
        """Closing with an error throws it into generators, which still clean up."""
        events: list[str] = []

        def make_session() -> Iterator[Session]:
            try:
                yield Session()
                events.append("commit")
            except ValueError:
                events.append("rollback")
                raise
            finally:
                events.append("close")

        container = Container()
        container.add_scoped(Session, make_session)
        scope = container.sync_scope()
        scope.resolve(Session)
        scope.close(ValueError("boom"))  # the generator re-raising it is not a new error
        assert events == ["rollback", "close"]

    def test_with_block_error_reaches_cleanup(self) -> None:
        """Leaving a `with` block by an exception closes the scope with that exception."""
        events: list[str] = []

        def make_session() -> Iterator[Session]:
            try:
                yield Session()
            except KeyError:
                events.append("rollback")
                raise

        container = Container()
        container.add_scoped(Session, make_session)

        def work() -> None:
            with container.sync_scope() as scope:
                scope.resolve(Session)
                raise KeyError("missing")

        with pytest.raises(KeyError, match="missing"):
            work()
        assert events == ["rollback"]

    def test_failing_cleanup_does_not_stop_the_others(self) -> None:
        """Every cleanup runs even when one fails; the failure is raised afterwards."""
        events: list[str] = []

        def make_session() -> Iterator[Session]:
            yield Session()
            events.append("session closed")

        def make_repository(session: Session) -> Iterator[Repository]:
            yield Repository(session)
            raise RuntimeError("cleanup failed")

        container = Container()
        container.add_scoped(Session, make_session)
        container.add_scoped(Repository, make_repository)
        scope = container.sync_scope()
        scope.resolve(Repository)
        with pytest.raises(RuntimeError, match="cleanup failed"):
            scope.close()
        assert events == ["session closed"]

    def test_generator_must_yield(self) -> None:
        """A generator factory that does not yield is reported."""

        def make_session() -> Iterator[Session]:
            return
            yield Session()

        container = Container()
        container.add_scoped(Session, make_session)
        with (
            container.sync_scope() as scope,
            pytest.raises(ResolutionError, match=r"finished without yielding an instance"),
        ):
            scope.resolve(Session)


class TestReentry:
    async def test_async_provider_resolving_from_its_scope(self) -> None:
        """An async provider given the Scope may await resolutions from it."""

        async def make_repository(scope: Scope) -> Repository:
            return Repository(await scope.aresolve(Session))

        async def open_session() -> AsyncIterator[Session]:
            yield Session()

        container = Container()
        container.add_scoped(Session, open_session)
        container.add_scoped(Repository, make_repository)
        async with container.scope() as scope:
            repository = await scope.aresolve(Repository)
            assert repository.session is await scope.aresolve(Session)

    async def test_async_nine_style_provider(self) -> None:
        """An async 0.9-style provider (`async def f(c)`) gets the scope and is awaited."""

        async def open_session() -> AsyncIterator[Session]:
            yield Session()

        async def make_repository(c):  # type: ignore[no-untyped-def]  # the 0.9 form
            return Repository(await c.aresolve(Session))

        container = Container()
        container.add_scoped(Session, open_session)
        container.add_scoped(Repository, make_repository)
        async with container.scope() as scope:
            repository = await scope.aresolve(Repository)
            assert repository.session is await scope.aresolve(Session)

    async def test_nested_context_adds_to_the_outer(self) -> None:
        """A nested scope sees its parent's context values next to its own."""

        class Tenant:
            pass

        container = Container()
        request, tenant = Request("/"), Tenant()
        async with (
            container.scope(context={Request: request}) as outer,
            outer.scope(context={Tenant: tenant}) as inner,
        ):
            assert inner.resolve(Request) is request
            assert inner.resolve(Tenant) is tenant
            with pytest.raises(ResolutionError, match=r"nothing is registered for .*Tenant"):
                outer.resolve(Tenant)
