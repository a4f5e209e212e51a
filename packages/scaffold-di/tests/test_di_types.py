"""What can be asked for: Annotated, generics, all implementations, Protocols, NewType."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Annotated, NewType, Protocol

import pytest

from scaffold.di import Container, RegistrationError, ValidationError

DatabaseUrl = NewType("DatabaseUrl", str)


class User:
    pass


class Order:
    pass


class Session:
    pass


class Repository[T]:
    def __init__(self, session: Session) -> None:
        self.session = session


class SqlRepository[T](Repository[T]):
    def __init__(self, session: Session, model: type[T]) -> None:
        super().__init__(session)
        self.model = model


class TaskHandler(Protocol):
    def handle(self, task: str) -> str: ...


class UpperHandler:
    def handle(self, task: str) -> str:
        return task.upper()


class LowerHandler:
    def handle(self, task: str) -> str:
        return task.lower()


class Worker:
    def __init__(self, handlers: Sequence[TaskHandler]) -> None:
        self.handlers = handlers


class TestAnnotated:
    def test_annotated_key(self) -> None:
        """`Annotated[str, "dsn"]` is a key of its own, injected where it is annotated."""

        class Engine:
            def __init__(self, url: Annotated[str, "dsn"], name: Annotated[str, "name"]) -> None:
                self.url = url
                self.name = name

        container = Container()
        container.add_instance(Annotated[str, "dsn"], "sqlite://")
        container.add_instance(Annotated[str, "name"], "main")
        container.add_singleton(Engine)
        engine = container[Engine]
        assert (engine.url, engine.name) == ("sqlite://", "main")
        assert container.resolve(Annotated[str, "dsn"]) == "sqlite://"

    def test_annotated_falls_back_to_its_type(self) -> None:
        """Metadata that is not registered as a key of its own leaves the plain type."""

        class Repo:
            def __init__(self, session: Annotated[Session, "read-only"]) -> None:
                self.session = session

        container = Container()
        container.add_singleton(Session)
        container.add_singleton(Repo)
        assert container[Repo].session is container[Session]

    def test_newtype_key(self) -> None:
        """A NewType is a key of its own."""

        @dataclasses.dataclass
        class Settings:
            url: DatabaseUrl

        container = Container()
        container.add_instance(DatabaseUrl, DatabaseUrl("postgresql://"))
        container.add_singleton(Settings)
        assert container[Settings].url == "postgresql://"


class TestGenerics:
    def test_parametrised_key(self) -> None:
        """`Repository[User]` and `Repository[Order]` are separate keys."""

        class UserRepository(Repository[User]):
            pass

        class Service:
            def __init__(self, users: Repository[User], orders: Repository[Order]) -> None:
                self.users = users
                self.orders = orders

        container = Container()
        container.add_scoped(Session)
        container.add_scoped(Repository[User], UserRepository)
        container.add_scoped(Repository[Order], SqlRepository[Order])
        container.add_scoped(Service)
        with container.sync_scope() as scope:
            service = scope[Service]
            assert isinstance(service.users, UserRepository)
            assert isinstance(service.orders, SqlRepository)
            assert service.orders.model is Order  # type[T] became type[Order]

    def test_open_generic_registration(self) -> None:
        """Registering the generic class serves every parametrisation (PEP 695 classes)."""

        class Service:
            def __init__(self, users: Repository[User], orders: Repository[Order]) -> None:
                self.users = users
                self.orders = orders

        container = Container()
        container.add_scoped(Session)
        container.add_scoped(Repository, SqlRepository)
        container.add_scoped(Service)
        with container.sync_scope() as scope:
            service = scope[Service]
            assert isinstance(service.users, SqlRepository)
            assert (service.users.model, service.orders.model) == (User, Order)
            assert scope.resolve(Repository[User]) is service.users

    def test_wrong_implementation_is_refused(self) -> None:
        """An implementation of an unrelated class is refused at registration."""
        container = Container()
        with pytest.raises(
            RegistrationError, match=r"Order is not a subclass of Repository\[User\]"
        ):
            container.add_scoped(Repository[User], Order)


class TestAllImplementations:
    def test_sequence_injects_every_registration(self) -> None:
        """`Sequence[T]` gets every registration of T in order; T alone gets the last."""
        container = Container()
        container.add_singleton(TaskHandler, UpperHandler)
        container.add_transient(TaskHandler, LowerHandler)
        container.add_transient(Worker)
        worker = container[Worker]
        assert [handler.handle("Ab") for handler in worker.handlers] == ["AB", "ab"]
        assert isinstance(container[TaskHandler], LowerHandler)
        assert [type(h) for h in container.resolve_all(TaskHandler)] == [UpperHandler, LowerHandler]

    def test_list_and_tuple_forms(self) -> None:
        """`list[T]` and `tuple[T, ...]` work like `Sequence[T]`."""

        class Both:
            def __init__(self, a: list[TaskHandler], b: tuple[TaskHandler, ...]) -> None:
                self.a = a
                self.b = b

        container = Container()
        container.add_singleton(TaskHandler, UpperHandler)
        container.add_transient(Both)
        both = container[Both]
        assert isinstance(both.a, list)
        assert isinstance(both.b, tuple)
        assert both.a[0] is both.b[0]

    def test_nothing_registered_gives_empty(self) -> None:
        """With no registration of T, `Sequence[T]` is empty (plug-in points may be unused)."""
        container = Container()
        container.add_transient(Worker)
        assert container[Worker].handlers == []


class TestBindings:
    def test_protocol_binding(self) -> None:
        """A Protocol is bound to a class that implements it structurally."""
        container = Container()
        container.add_singleton(TaskHandler, UpperHandler)
        assert container[TaskHandler].handle("x") == "X"

    def test_protocol_binding_checks_members(self) -> None:
        """A class lacking the Protocol's methods is refused with their names."""
        container = Container()
        with pytest.raises(
            RegistrationError,
            match=r"does not implement the Protocol TaskHandler: "
            r"it lacks handle",
        ):
            container.add_singleton(TaskHandler, Session)

    def test_protocol_without_provider(self) -> None:
        """A Protocol cannot be registered without an implementation."""
        container = Container()
        with pytest.raises(RegistrationError, match=r"TaskHandler is a Protocol and cannot be"):
            container.add_singleton(TaskHandler)


class TestProviders:
    def test_keyword_only_and_defaults(self) -> None:
        """Keyword-only parameters are injected; after a left-out default, keywords are used."""

        def make(session: Session, retries: int = 3, *, user: User) -> tuple[object, ...]:
            return (session, retries, user)

        container = Container()
        container.add_singleton(Session)
        container.add_singleton(User)
        container.add_transient(tuple, make)
        assert container[tuple] == (container[Session], 3, container[User])

    def test_callable_object_and_partial(self) -> None:
        """A callable object's __call__ and a functools.partial are providers too."""

        class SessionFactory:
            def __call__(self, user: User) -> Session:
                session = Session()
                session.user = user  # type: ignore[attr-defined]
                return session

        def make_order(user: User, note: str) -> Order:
            order = Order()
            order.note = note  # type: ignore[attr-defined]
            return order

        container = Container()
        container.add_singleton(User)
        container.add_transient(Session, SessionFactory())
        container.add_transient(Order, functools.partial(make_order, note="gift"))
        assert container[Session].user is container[User]  # type: ignore[attr-defined]
        assert container[Order].note == "gift"  # type: ignore[attr-defined]

    def test_container_is_injectable(self) -> None:
        """A provider may ask for the Container itself."""

        class Locator:
            def __init__(self, container: Container) -> None:
                self.container = container

        container = Container()
        container.add_singleton(Locator)
        assert container[Locator].container is container


class TestOpenGenericMistakes:
    def test_bare_generic_parameter_is_reported(self) -> None:
        """Asking for an open generic without type arguments is a validation problem."""

        class Service:
            def __init__(self, repository: Repository) -> None:  # type: ignore[type-arg]
                self.repository = repository

        container = Container()
        container.add_scoped(Session)
        container.add_scoped(Repository, SqlRepository)
        container.add_scoped(Service)
        with pytest.raises(ValidationError) as caught:
            container.validate()
        assert [str(p) for p in caught.value.problems] == [
            (
                "Service -> Repository: Repository is registered as a generic, so parameter "
                "'repository' of Service must say which one, e.g. Repository[...]"
            )
        ]
