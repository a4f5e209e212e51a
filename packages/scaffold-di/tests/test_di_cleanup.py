"""Closing generator factories: order, errors, misuse."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from scaffold.di import Container, ResolutionError


class Session:
    pass


class Cache:
    pass


class Mailer:
    pass


class TestFailures:
    def test_several_failures_become_a_group(self) -> None:
        """Two failing cleanups are both raised, in an ExceptionGroup, after all ran."""
        closed: list[str] = []

        def make_session() -> Iterator[Session]:
            yield Session()
            closed.append("session")
            raise KeyError("session")

        def make_cache() -> Iterator[Cache]:
            yield Cache()
            closed.append("cache")
            raise ValueError("cache")

        def make_mailer() -> Iterator[Mailer]:
            yield Mailer()
            closed.append("mailer")

        container = Container()
        container.add_scoped(Session, make_session)
        container.add_scoped(Cache, make_cache)
        container.add_scoped(Mailer, make_mailer)
        scope = container.sync_scope()
        scope.resolve(Session)
        scope.resolve(Cache)
        scope.resolve(Mailer)
        with pytest.raises(ExceptionGroup) as caught:
            scope.close()
        assert closed == ["mailer", "cache", "session"]
        assert [type(error) for error in caught.value.exceptions] == [ValueError, KeyError]

    def test_generator_yielding_twice(self) -> None:
        """A factory that yields a second time is an error naming it."""

        def make_session() -> Iterator[Session]:
            yield Session()
            yield Session()

        container = Container()
        container.add_scoped(Session, make_session)
        scope = container.sync_scope()
        scope.resolve(Session)
        with pytest.raises(ResolutionError, match=r"make_session\(\) yielded more than once"):
            scope.close()

    async def test_async_generator_yielding_twice(self) -> None:
        """The same holds for async generator factories."""

        async def make_session() -> AsyncIterator[Session]:
            yield Session()
            yield Session()

        container = Container()
        container.add_scoped(Session, make_session)
        scope = container.scope()
        await scope.aresolve(Session)
        with pytest.raises(ResolutionError, match=r"make_session\(\) yielded more than once"):
            await scope.aclose()

    async def test_async_cleanup_sees_the_error(self) -> None:
        """An async generator gets the error that ended the scope thrown in."""
        events: list[str] = []

        async def make_session() -> AsyncIterator[Session]:
            try:
                yield Session()
            except LookupError as error:
                events.append(f"rollback after {error!r}")
                raise

        container = Container()
        container.add_scoped(Session, make_session)

        async def work() -> None:
            async with container.scope() as scope:
                await scope.aresolve(Session)
                raise LookupError("gone")

        with pytest.raises(LookupError):
            await work()
        assert events == ["rollback after LookupError('gone')"]

    async def test_sync_close_of_async_generators_is_refused(self) -> None:
        """Container.close() cannot finish async generators and says what to use."""

        async def make_session() -> AsyncIterator[Session]:
            yield Session()

        container = Container()
        container.add_singleton(Session, make_session)
        await container.aresolve(Session)
        with pytest.raises(ResolutionError, match=r"cannot be closed from synchronous code"):
            container.close()


class TestContainerClose:
    async def test_singletons_are_created_anew_after_aclose(self) -> None:
        """After aclose() the container forgets its singletons and creates new ones."""
        opened: list[Session] = []

        def make_session() -> Iterator[Session]:
            session = Session()
            opened.append(session)
            yield session

        container = Container()
        container.add_singleton(Session, make_session)
        first = container.resolve(Session)
        await container.aclose()
        second = container.resolve(Session)
        assert first is not second
        assert opened == [first, second]

    def test_transient_generators_at_the_root_close_with_the_container(self) -> None:
        """A transient generator resolved outside a scope is closed by container.close()."""
        closed: list[Session] = []

        def make_session() -> Iterator[Session]:
            session = Session()
            yield session
            closed.append(session)

        container = Container()
        container.add_transient(Session, make_session)
        session = container.resolve(Session)
        assert closed == []
        container.close()
        assert closed == [session]
