"""Task registration: stable names, handlers, options, and JSON round trips."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import pytest

from scaffold.tasks import (
    GenericBaseTaskHandler,
    RetryPolicy,
    Task,
    TaskRegistrationError,
    TaskRegistry,
    UnknownTaskError,
)


@dataclasses.dataclass(frozen=True)
class Reply(Task, name="chat.reply"):
    user_id: uuid.UUID
    sent_at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Unnamed:
    n: int


class ReplyHandler(GenericBaseTaskHandler[Reply]):
    async def handle(self, task: Reply) -> None:
        pass


class TestRegister:
    def test_name_comes_from_the_task_class(self):
        """`Task` subclasses carry their stable name; others default to their qualified name."""
        registry = TaskRegistry()
        assert registry.register(Reply, ReplyHandler).name == "chat.reply"
        assert registry.register(Unnamed).name == "Unnamed"
        assert registry.names() == ["Unnamed", "chat.reply"]
        assert registry.by_name("chat.reply") is not None
        assert Reply in registry
        assert len(registry) == 2

    def test_explicit_name_wins(self):
        """`register(..., name=)` overrides the class's own name."""
        registry = TaskRegistry()
        assert registry.register(Reply, name="v2.reply").name == "v2.reply"

    def test_defaults_and_options_are_kept(self):
        """Queue, priority, attempts, retry, timeout and concurrency are stored as given."""
        policy = RetryPolicy(initial_delay=2)
        definition = TaskRegistry().register(
            Reply,
            ReplyHandler,
            queue="chat",
            priority=3,
            max_attempts=7,
            retry=policy,
            timeout=datetime.timedelta(seconds=90),
            concurrency=4,
        )
        assert (definition.queue, definition.priority, definition.max_attempts) == ("chat", 3, 7)
        assert (definition.retry, definition.timeout, definition.concurrency) == (policy, 90.0, 4)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"max_attempts": 0}, "max_attempts must be an int >= 1"),
            ({"max_attempts": True}, "max_attempts must be an int >= 1"),
            ({"concurrency": 0}, "concurrency"),
            ({"queue": "no spaces"}, "queue of Reply 'no spaces' is not valid"),
            ({"name": "-leading"}, "is not valid"),
            ({"timeout": 0}, "timeout must be a finite duration > 0"),
            ({"priority": 40000}, "priority must be between"),
        ],
    )
    def test_bad_options_are_refused(self, kwargs, message):
        """Each bad option is refused with an error naming it."""
        with pytest.raises((TaskRegistrationError, ValueError), match=message):
            TaskRegistry().register(Reply, **kwargs)

    def test_only_frozen_dataclasses_are_tasks(self):
        """A task must be a frozen dataclass: values that serialise, never mutable objects."""

        @dataclasses.dataclass
        class Mutable:
            n: int

        class Plain:
            pass

        registry = TaskRegistry()
        with pytest.raises(TaskRegistrationError, match="declare it with"):
            registry.register(Mutable, name="m")
        with pytest.raises(TaskRegistrationError, match="must be a frozen dataclass"):
            registry.register(Plain, name="p")

    def test_handler_needs_a_handle_method(self):
        """A handler class without `handle` is refused at registration, not at run time."""
        with pytest.raises(TaskRegistrationError, match="needs an `async def handle"):
            TaskRegistry().register(Reply, object)  # type: ignore[arg-type]

    def test_duplicates_are_refused(self):
        """A type registers once, and a name belongs to one type."""
        registry = TaskRegistry()
        registry.register(Reply)
        with pytest.raises(TaskRegistrationError, match="already registered"):
            registry.register(Reply)
        with pytest.raises(TaskRegistrationError, match="already used by Reply"):
            registry.register(Unnamed, name="chat.reply")

    def test_local_classes_need_a_name(self):
        """A class defined in a function has no usable default name; the error says what to do."""

        @dataclasses.dataclass(frozen=True)
        class Local:
            n: int

        with pytest.raises(TaskRegistrationError, match=r"register\(\.\.\., name="):
            TaskRegistry().register(Local)

    def test_unserialisable_fields_are_refused(self):
        """A field pydantic cannot serialise makes registration fail, naming the class."""

        class Opaque:
            pass

        @dataclasses.dataclass(frozen=True)
        class Holder:
            thing: Opaque

        with pytest.raises(TaskRegistrationError, match="Holder cannot be serialised"):
            TaskRegistry().register(Holder, name="holder")

    def test_task_name_must_be_valid_on_the_class(self):
        """`class X(Task, name=...)` checks the name when the class is defined."""
        with pytest.raises(TaskRegistrationError, match="is not valid"):

            class Bad(Task, name="has space"):
                pass


class TestSerialisation:
    def test_round_trip(self):
        """A task comes back equal from its JSON, UUIDs and datetimes included."""
        definition = TaskRegistry().register(Reply)
        task = Reply(uuid.uuid4(), datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC))
        assert definition.decode(definition.encode(task)) == task
        assert definition.decode(definition.encode(task).encode()) == task

    def test_for_task_names_the_missing_registration(self):
        """Looking up an unregistered task's definition says how to register it."""
        with pytest.raises(UnknownTaskError, match=r"call registry.register\(Unnamed"):
            TaskRegistry().for_task(Unnamed(1))

    def test_concurrency_limits(self):
        """Only types with a limit appear in the registry's limits."""
        registry = TaskRegistry()
        registry.register(Reply, concurrency=3)
        registry.register(Unnamed)
        assert registry.concurrency_limits() == {"chat.reply": 3}
