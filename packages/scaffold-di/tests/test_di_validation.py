"""Validation: every problem at once, each with its dependency path; the exact texts."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator

import pytest

from scaffold.di import Container, Problem, ResolutionError, ValidationError


class NotificationService(abc.ABC):
    @abc.abstractmethod
    def send(self) -> None: ...


class EmailNotificationService(NotificationService):
    def send(self) -> None:
        pass


class TaskManager:
    pass


class UserService:
    def __init__(self, notification_service: NotificationService, task_manager: TaskManager):
        self.notification_service = notification_service
        self.task_manager = task_manager


class HomeController:
    def __init__(self, user_service: UserService) -> None:
        self.user_service = user_service


class Sesion:
    pass


class Session:
    pass


class Request:
    pass


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session


class Cache:
    def __init__(self, repository: Repository) -> None:
        self.repository = repository


class Clock:
    def __init__(self, session: Session) -> None:
        self.session = session


class Audit:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock


class First:
    def __init__(self, second: Second) -> None:
        self.second = second


class Second:
    def __init__(self, first: First) -> None:
        self.first = first


class Loose:
    def __init__(self, thing) -> None:  # type: ignore[no-untyped-def]
        self.thing = thing


def problems_of(container: Container) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        container.validate()
    return [str(problem) for problem in caught.value.problems]


class TestMessages:
    def test_missing_registration_with_path_and_subclass_hint(self) -> None:
        """A missing type names the path, the parameter, and a registered implementation."""
        container = Container()
        container.add_singleton(EmailNotificationService)
        container.add_scoped(TaskManager)
        container.add_scoped(UserService)
        container.add_scoped(HomeController)
        assert problems_of(container) == [
            (
                "HomeController -> UserService -> NotificationService: nothing is registered for "
                "parameter 'notification_service' of UserService; did you mean "
                "add_singleton(NotificationService, EmailNotificationService)? "
                "EmailNotificationService is registered, but not for NotificationService"
            )
        ]

    def test_missing_registration_with_similar_name(self) -> None:
        """A misspelt registration is suggested by name."""
        container = Container()
        container.add_scoped(Sesion)
        container.add_scoped(Repository)
        assert problems_of(container) == [
            (
                "Repository -> Session: nothing is registered for parameter 'session' of "
                "Repository; did you mean Sesion?"
            )
        ]

    def test_singleton_needing_scoped(self) -> None:
        """A singleton that depends on a scoped service is a lifetime mismatch."""
        container = Container()
        container.add_scoped(Session)
        container.add_scoped(Repository)
        container.add_singleton(Cache)
        assert problems_of(container) == [
            (
                "Cache -> Repository: Cache is a singleton but needs Repository, which lives in a "
                "scope (parameter 'repository' of Cache); the singleton would keep the first "
                "scope's Repository forever. Make Cache scoped, or Repository a singleton"
            )
        ]

    def test_singleton_needing_scoped_through_a_transient(self) -> None:
        """The path runs through the transient down to the scoped service."""
        container = Container()
        container.add_scoped(Session)
        container.add_transient(Clock)
        container.add_singleton(Audit)
        assert problems_of(container) == [
            (
                "Audit -> Clock -> Session: Audit is a singleton but needs Session, which lives in "
                "a scope (parameter 'clock' of Audit); the singleton would keep the first scope's "
                "Session forever. Make Audit scoped, or Session a singleton"
            )
        ]

    def test_singleton_needing_context(self) -> None:
        """A per-scope context value cannot be held by a singleton either."""

        class Tracker:
            def __init__(self, request: Request) -> None:
                self.request = request

        container = Container()
        container.add_context(Request)
        container.add_singleton(Tracker)
        assert problems_of(container) == [
            (
                "Tracker -> Request: Tracker is a singleton but needs Request, which lives in a "
                "scope (parameter 'request' of Tracker); the singleton would keep the first "
                "scope's Request forever. Make Tracker scoped, or Request a singleton"
            )
        ]

    def test_cycle(self) -> None:
        """A dependency cycle is reported once, as its loop."""
        container = Container()
        container.add_scoped(First)
        container.add_scoped(Second)
        assert problems_of(container) == [
            (
                "First -> Second -> First: dependency cycle: each of these needs the next one "
                "to be created first; break it by injecting a factory or moving the shared part "
                "into a new service"
            )
        ]

    def test_unannotated_parameter(self) -> None:
        """A parameter without annotation or default cannot be injected."""
        container = Container()
        container.add_scoped(Loose)
        assert problems_of(container) == [
            (
                "Loose: parameter 'thing' of Loose has no type annotation, so there is nothing to "
                "look up; annotate it or give it a default"
            )
        ]

    def test_annotation_that_fails_to_evaluate(self) -> None:
        """A string annotation that raises (not a missing name) is reported with the error."""

        def make_clock(session: Session[int]) -> Clock:  # type: ignore[type-arg]  # a broken annotation on purpose
            return Clock(session)

        container = Container()
        container.add_scoped(Session)
        container.add_scoped(Clock, make_clock)
        assert problems_of(container) == [
            (
                "Clock: parameter 'session' of make_clock() has the annotation 'Session[int]', "
                "which fails to evaluate: type 'Session' is not subscriptable"
            )
        ]

    def test_positional_only_after_a_default(self) -> None:
        """A positional-only parameter after a left-out default cannot be passed."""

        def make_clock(retries: int = 3, session: Session | None = None, /) -> Clock:
            assert session is not None
            return Clock(session)

        container = Container()
        container.add_scoped(Session)
        container.add_scoped(Clock, make_clock)
        assert problems_of(container) == [
            (
                "Clock: parameter 'session' of make_clock() is positional-only and comes after a "
                "parameter left to its default, so it cannot be passed; register the earlier "
                "parameter's type or make this one keyword-capable"
            )
        ]

    def test_async_provider_on_a_sync_path(self) -> None:
        """get_factory() marks its service as resolved synchronously; async providers clash."""

        async def make_task_manager() -> AsyncIterator[TaskManager]:
            yield TaskManager()

        container = Container()
        container.add_singleton(NotificationService, EmailNotificationService)
        container.add_scoped(TaskManager, make_task_manager)
        container.add_scoped(UserService)
        container.get_factory(UserService)
        assert problems_of(container) == [
            (
                "UserService -> TaskManager: make_task_manager() is async, but UserService is "
                "resolved from synchronous code (get_factory() or expect_sync()); resolve it with "
                "`await scope.aresolve(UserService)` instead, or give TaskManager a sync provider"
            )
        ]

    def test_expect_sync_of_something_unregistered(self) -> None:
        """Declaring a sync root that nothing provides is reported."""
        container = Container()
        container.expect_sync(Session)
        assert problems_of(container) == [
            (
                "Session: nothing is registered for it, but it is resolved from synchronous code "
                "(get_factory() or expect_sync())"
            )
        ]

    def test_init_function_problems(self) -> None:
        """Init functions are validated with the graph: missing and scoped parameters."""

        def setup(session: Session, cache: Cache) -> None:
            pass

        container = Container()
        container.add_scoped(Session)
        container.add_init_function(setup)
        assert problems_of(container) == [
            (
                "init function setup(): parameter 'session' needs Session, which lives in a scope; "
                "init functions run outside any scope"
            ),
            "init function setup(): nothing is registered for parameter 'cache' (Cache)",
        ]


class TestReporting:
    def test_every_problem_at_once(self) -> None:
        """All problems come in one ValidationError, one line each, with a count."""
        container = Container()
        container.add_scoped(Repository)
        container.add_scoped(First)
        container.add_scoped(Second)
        container.add_scoped(Loose)
        with pytest.raises(ValidationError) as caught:
            container.validate()
        error = caught.value
        assert len(error.problems) == 3
        assert all(isinstance(problem, Problem) for problem in error.problems)
        assert str(error).splitlines()[0] == "the container's dependency graph has 3 problems:"
        assert error.problems[0].path == ("Repository", "Session")

    def test_first_resolution_validates(self) -> None:
        """Resolving from a broken graph raises the ValidationError, not a later failure."""
        container = Container()
        container.add_scoped(Repository)
        with pytest.raises(ValidationError, match=r"Repository -> Session: nothing is registered"):
            container.sync_scope()

    def test_validation_can_be_turned_off(self) -> None:
        """With validate=False the broken part fails only when it is resolved."""
        container = Container(validate=False)
        container.add_scoped(Repository)
        container.add_transient(Clock, lambda _: None)
        assert container.resolve(Clock) is None
        with (
            container.sync_scope() as scope,
            pytest.raises(
                ResolutionError,
                match=r"^Repository -> Session: nothing is registered for parameter 'session' "
                r"of Repository$",
            ),
        ):
            scope.resolve(Repository)

    def test_unregistered_key(self) -> None:
        """Resolving a type nothing provides says so, with a hint."""
        container = Container()
        container.add_scoped(Sesion)
        with (
            container.sync_scope() as scope,
            pytest.raises(
                ResolutionError, match=r"^nothing is registered for Session; did you mean Sesion\?$"
            ),
        ):
            scope.resolve(Session)
