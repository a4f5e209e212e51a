"""Test overrides: reach indirect dependencies, validated, isolated per context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from scaffold.di import Container, RegistrationError, ValidationError


class Mailer:
    def send(self) -> str:
        return "smtp"


class FakeMailer(Mailer):
    def send(self) -> str:
        return "fake"


class Signup:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer


class Controller:
    def __init__(self, signup: Signup) -> None:
        self.signup = signup


def make_container() -> Container:
    container = Container()
    container.add_singleton(Mailer)
    container.add_singleton(Signup)
    container.add_scoped(Controller)
    return container


class TestOverride:
    async def test_reaches_indirect_dependencies(self) -> None:
        """An override replaces the service wherever it is injected, singletons included."""
        container = make_container()
        real = container[Signup]
        fake = FakeMailer()
        with container.override(Mailer, fake):
            async with container.scope() as scope:
                assert (await scope.aresolve(Controller)).signup.mailer is fake
            assert container[Signup].mailer is fake
        assert container[Signup] is real

    def test_is_validated_when_applied(self) -> None:
        """An override whose provider needs something unregistered is refused at once."""

        class Unregistered:
            pass

        class NeedsMore(Mailer):
            def __init__(self, other: Unregistered) -> None:
                self.other = other

        container = make_container()
        with (
            pytest.raises(ValidationError, match=r"nothing is registered for parameter 'other'"),
            container.override(Mailer, provider=NeedsMore),
        ):
            pass

    async def test_parallel_tasks_do_not_see_each_other(self) -> None:
        """Overrides in concurrent tasks stay in their own task."""
        container = make_container()
        seen: dict[str, str] = {}
        started = asyncio.Event()
        both = asyncio.Barrier(2)

        async def with_override() -> None:
            with container.override(Mailer, FakeMailer()):
                started.set()
                await both.wait()
                seen["override"] = container[Signup].mailer.send()

        async def without() -> None:
            await started.wait()
            await both.wait()
            seen["plain"] = container[Signup].mailer.send()

        await asyncio.gather(with_override(), without())
        assert seen == {"override": "fake", "plain": "smtp"}


class TestOverrideForms:
    def test_nested_overrides(self) -> None:
        """Overrides nest; leaving the inner one restores the outer one."""
        container = make_container()
        outer, inner = FakeMailer(), FakeMailer()
        with container.override(Mailer, outer):
            with container.override(Mailer, inner):
                assert container[Signup].mailer is inner
            assert container[Signup].mailer is outer

    def test_provider_override_keeps_the_lifetime(self) -> None:
        """override(key, provider=...) builds the replacement with the key's lifetime."""
        container = make_container()
        with container.override(Mailer, provider=FakeMailer):
            assert isinstance(container[Mailer], FakeMailer)
            assert container[Mailer] is container[Mailer]  # still a singleton

    async def test_async_override_closes_its_generators(self) -> None:
        """`async with` an override closes the async generator singletons it created."""
        closed: list[str] = []

        async def make_mailer() -> AsyncIterator[Mailer]:
            yield FakeMailer()
            closed.append("fake mailer")

        container = make_container()
        async with container.override(Mailer, provider=make_mailer):
            assert isinstance(await container.aresolve(Signup), Signup)
        assert closed == ["fake mailer"]

    def test_override_of_unregistered_key_is_refused(self) -> None:
        """Overriding something never registered is a mistake, reported at once."""

        class Unregistered:
            pass

        container = make_container()
        with pytest.raises(RegistrationError, match=r"nothing is registered for Unregistered"):
            container.override(Unregistered, Unregistered())

    def test_override_needs_exactly_one_replacement(self) -> None:
        """Both or neither of instance and provider is refused."""
        container = make_container()
        with pytest.raises(RegistrationError, match=r"give either an instance or provider="):
            container.override(Mailer)
