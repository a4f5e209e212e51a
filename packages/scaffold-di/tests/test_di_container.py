"""The container: registration, lifetimes, auto-wiring and the 0.9 API."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterator

import pytest

from scaffold.di import Container, RegistrationError, ResolutionError


class Config:
    def __init__(self) -> None:
        self.url = "sqlite://"


class Database:
    def __init__(self, config: Config) -> None:
        self.config = config


class Clock:
    pass


class Notifier(abc.ABC):
    @abc.abstractmethod
    def notify(self, text: str) -> None: ...


class EmailNotifier(Notifier):
    def __init__(self, config: Config) -> None:
        self.config = config
        self.sent: list[str] = []

    def notify(self, text: str) -> None:
        self.sent.append(text)


class UserService:
    def __init__(self, notifier: Notifier, clock: Clock, *, database: Database) -> None:
        self.notifier = notifier
        self.clock = clock
        self.database = database


class TestLifetimes:
    def test_singleton_is_created_once(self) -> None:
        """A singleton resolves to the same instance every time."""
        container = Container()
        container.add_singleton(Config)
        assert container.resolve(Config) is container.resolve(Config)

    def test_transient_is_created_each_time(self) -> None:
        """A transient resolves to a new instance every time, also when injected twice."""

        class Pair:
            def __init__(self, first: Clock, second: Clock) -> None:
                self.first = first
                self.second = second

        container = Container()
        container.add_transient(Clock)
        container.add_transient(Pair)
        pair = container[Pair]
        assert pair.first is not pair.second
        assert container[Clock] is not container[Clock]

    def test_instance_is_returned_as_given(self) -> None:
        """add_instance registers an existing object as the singleton."""
        config = Config()
        container = Container()
        container.add_instance(Config, config)
        assert container[Config] is config

    def test_scoped_needs_a_scope(self) -> None:
        """Resolving a scoped service at the root says to open a scope."""
        container = Container()
        container.add_scoped(Clock)
        with pytest.raises(ResolutionError, match=r"Clock is scoped, so resolve Clock inside"):
            container.resolve(Clock)


class TestAutoWiring:
    def test_constructor_parameters_are_injected(self) -> None:
        """__init__ annotations, keyword-only included, are resolved and passed."""
        container = Container()
        container.add_singleton(Config)
        container.add_singleton(Database)
        container.add_singleton(Notifier, EmailNotifier)
        container.add_transient(Clock)
        container.add_transient(UserService)
        service = container[UserService]
        assert isinstance(service.notifier, EmailNotifier)
        assert service.database is container[Database]
        assert service.notifier.config is container[Config]

    def test_factory_function_parameters_are_injected(self) -> None:
        """A factory function's annotated parameters are resolved like a constructor's."""

        def make_database(config: Config) -> Database:
            database = Database(config)
            database.config.url = "postgresql://"
            return database

        container = Container()
        container.add_singleton(Config)
        container.add_singleton(Database, make_database)
        assert container[Database].config.url == "postgresql://"

    def test_default_is_used_when_nothing_is_registered(self) -> None:
        """A parameter with a default keeps it when its type is not registered."""

        class Greeter:
            def __init__(self, clock: Clock, greeting: str = "hello", retries: int = 3) -> None:
                self.clock = clock
                self.greeting = greeting
                self.retries = retries

        container = Container()
        container.add_transient(Clock)
        container.add_transient(Greeter)
        greeter = container[Greeter]
        assert (greeter.greeting, greeter.retries) == ("hello", 3)

    def test_registered_type_wins_over_default(self) -> None:
        """A parameter with a default still receives a registered instance."""

        class Service:
            def __init__(self, clock: Clock | None = None) -> None:
                self.clock = clock

        container = Container()
        container.add_singleton(Clock)
        container.add_transient(Service)
        assert container[Service].clock is container[Clock]

    def test_string_annotations_of_local_classes(self) -> None:
        """Under `from __future__ import annotations`, classes local to a function resolve."""

        class Local:
            pass

        class UsesLocal:
            def __init__(self, local: Local) -> None:
                self.local = local

        container = Container()
        container.add_singleton(Local)
        container.add_singleton(UsesLocal)
        assert container[UsesLocal].local is container[Local]

    def test_async_factory_needs_aresolve(self) -> None:
        """An async provider resolved synchronously says to use aresolve."""

        async def make_clock() -> Clock:
            return Clock()

        container = Container()
        container.add_transient(Clock, make_clock)
        with pytest.raises(ResolutionError, match=r"use `await scope.aresolve\(Clock\)`"):
            container.resolve(Clock)

    async def test_async_factory_is_awaited(self) -> None:
        """aresolve awaits an async factory."""

        async def make_clock() -> Clock:
            return Clock()

        container = Container()
        container.add_singleton(Clock, make_clock)
        clock = await container.aresolve(Clock)
        assert clock is await container.aresolve(Clock)
        assert container.resolve(Clock) is clock  # created: sync code may use it now


class TestNineApi:
    def test_lambda_taking_the_container(self) -> None:
        """The 0.9 provider form `lambda c: ...` receives the container."""
        container = Container()
        container.add_singleton(Config)
        container.add_transient(Database, lambda c: Database(c[Config]))
        assert container[Database].config is container[Config]

    def test_get_factory(self) -> None:
        """get_factory returns a zero-argument callable resolving the service."""
        container = Container()
        container.add_transient(Clock)
        factory = container.get_factory(Clock)
        assert isinstance(factory(), Clock)
        assert factory() is not factory()

    async def test_init_functions_run_in_order(self) -> None:
        """init() runs sync and async init functions in registration order."""
        calls: list[str] = []

        def first(c: Container) -> None:
            calls.append("first")

        async def second(config: Config) -> None:
            calls.append(f"second {config.url}")

        container = Container()
        container.add_singleton(Config)
        container.add_init_function(first)
        container.add_init_function(second)
        await container.init()
        assert calls == ["first", "second sqlite://"]


class TestRegistrationErrors:
    def test_abstract_key_without_provider(self) -> None:
        """Registering an ABC without an implementation is refused at once."""
        container = Container()
        with pytest.raises(RegistrationError, match=r"Notifier is abstract and cannot be"):
            container.add_singleton(Notifier)

    def test_provider_of_wrong_type(self) -> None:
        """A provider class that is not a subclass of the key is refused."""
        container = Container()
        with pytest.raises(RegistrationError, match=r"Clock is not a subclass of Notifier"):
            container.add_singleton(Notifier, Clock)

    def test_key_must_be_a_type(self) -> None:
        """A string is not a key."""
        container = Container()
        with pytest.raises(RegistrationError, match=r"'dsn' cannot be a key"):
            container.add_instance("dsn", "sqlite://")

    def test_instance_of_wrong_type(self) -> None:
        """add_instance checks the instance against a class key."""
        container = Container()
        with pytest.raises(RegistrationError, match=r"is not a Config"):
            container.add_instance(Config, Clock())


class TestGeneratorSingletons:
    async def test_aclose_runs_singleton_cleanup(self) -> None:
        """Sync and async generator singletons clean up in aclose(), newest first."""
        events: list[str] = []

        def make_config() -> Iterator[Config]:
            yield Config()
            events.append("config closed")

        async def make_database(config: Config) -> AsyncIterator[Database]:
            yield Database(config)
            events.append("database closed")

        container = Container()
        container.add_singleton(Config, make_config)
        container.add_singleton(Database, make_database)
        await container.aresolve(Database)
        await container.aclose()
        assert events == ["database closed", "config closed"]
