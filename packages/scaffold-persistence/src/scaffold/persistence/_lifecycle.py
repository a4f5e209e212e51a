"""The life cycle every unit of work shares, SQL or in memory.

A unit of work is used as `async with uow:`; inside the block it can be committed or
rolled back once, and leaving the block without a commit rolls back. After the block the
same object can be entered again, which starts a new, empty unit (a long-lived consumer
loop in the 0.9 tutorial does exactly that). Domain events recorded by the tracked
entities are pulled at commit and delivered only after the transaction committed, then
the after-commit callbacks run.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Self

from ._errors import (
    AfterCommitError,
    NestedUnitOfWorkError,
    UnhandledEventsError,
    UnitOfWorkClosedError,
    UnitOfWorkError,
)

if TYPE_CHECKING:
    from types import TracebackType

    from ._binding import Binding
    from .types import AfterCommitCallback, EventDispatcher

logger = logging.getLogger("scaffold.persistence")


class _State(enum.Enum):
    IDLE = "not active"
    OPEN = "open"
    COMMITTED = "already committed"
    ROLLED_BACK = "already rolled back"


class UnitOfWorkBase:
    """Commit, rollback, after-commit callbacks and domain events for one transaction."""

    def __init__(self, binding: Binding) -> None:
        self._binding = binding
        self._state = _State.IDLE
        self._callbacks: list[AfterCommitCallback] = []
        self._dispatcher: EventDispatcher | None = None

    # The transaction itself, provided by the SQL and in-memory units of work.

    async def _begin_transaction(self) -> None:
        """Start the unit's transaction (lazily, if the backend begins on first use)."""

    async def _commit_transaction(self, events: list[object]) -> None:
        raise NotImplementedError

    async def _rollback_transaction(self) -> None:
        raise NotImplementedError

    async def _end(self) -> None:
        """Release what the unit held (the SQL session's connection)."""

    async def _deliver_events(self, events: list[object]) -> list[Exception]:
        """Hand the committed events to the dispatcher; return the failures."""
        dispatcher = self._dispatcher
        assert dispatcher is not None  # noqa: S101 - commit() refused events without one
        failures: list[Exception] = []
        for event in events:
            try:
                await dispatcher(event)
            except Exception as error:  # noqa: BLE001 - every failure is reported after the rest ran
                failures.append(error)
        return failures

    @property
    def _can_take_events(self) -> bool:
        return self._dispatcher is not None

    # The public life cycle.

    async def __aenter__(self) -> Self:
        if "_binding" not in self.__dict__:
            raise UnitOfWorkError(
                f"{type(self).__name__}.__init__ did not call super().__init__(session); "
                "the unit of work cannot find its session and repositories"
            )
        if self._state is not _State.IDLE:
            raise NestedUnitOfWorkError(
                f"{type(self).__name__} is already active: a unit of work cannot be nested "
                "or entered twice at once; create another one from the factory"
            )
        if self._binding.active is not None:
            raise NestedUnitOfWorkError(
                f"another unit of work ({type(self._binding.active).__name__}) is active on "
                f"the session of this {type(self).__name__}; each unit of work needs a "
                "session of its own"
            )
        self._binding.active = self
        self._state = _State.OPEN
        self._callbacks = []
        self._forget_tracked()
        try:
            await self._begin_transaction()
        except BaseException:
            self._state = _State.IDLE
            self._binding.active = None
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._state is _State.OPEN:
                await self._rollback_transaction()
        finally:
            self._state = _State.IDLE
            self._binding.active = None
            self._callbacks = []
            self._forget_tracked()
            await self._end()

    async def commit(self) -> None:
        """Write every change of the tracked aggregates in one transaction, then run the
        after-commit work: deliver the domain events, call the after-commit callbacks.

        Raises `ConcurrencyError` when another unit of work changed an aggregate first;
        then nothing was written. Raises `AfterCommitError` when the data is committed but
        something after it failed.
        """
        self.require_open("commit()")
        events = self._pull_events()
        try:
            self._check_events_have_a_destination(events)
            await self._commit_transaction(events)
        except BaseException:
            self._state = _State.ROLLED_BACK
            self._forget_tracked()
            await self._rollback_quietly()
            raise
        self._state = _State.COMMITTED
        self._forget_tracked()
        await self._after_commit(events)

    async def rollback(self) -> None:
        """Discard every change of this unit of work; after-commit callbacks never run."""
        self.require_open("rollback()")
        self._state = _State.ROLLED_BACK
        self._callbacks = []
        self._forget_tracked()
        await self._rollback_transaction()

    def after_commit(self, callback: AfterCommitCallback) -> None:
        """Run `callback` once this unit of work's transaction has committed.

        Callbacks run in the order they were added, after the domain events were
        delivered. They never run when the unit rolls back or its commit fails.
        """
        self.require_open("after_commit()")
        self._callbacks.append(callback)

    @property
    def is_open(self) -> bool:
        """Whether the unit is inside its block and neither committed nor rolled back."""
        return self._state is _State.OPEN

    def require_open(self, action: str) -> None:
        """Raise `UnitOfWorkClosedError` unless this unit is inside its block and open."""
        if self._state is _State.OPEN:
            return
        if self._state is _State.IDLE:
            raise UnitOfWorkClosedError(
                f"{action} was called on {type(self).__name__} outside its block: use it "
                "inside `async with uow:`"
            )
        raise UnitOfWorkClosedError(
            f"{action} was called on {type(self).__name__}, which was {self._state.value} "
            "in this block; start a new `async with uow:` block for further work"
        )

    # Helpers.

    def _check_events_have_a_destination(self, events: list[object]) -> None:
        # The events are pulled from the entities already, so a unit that cannot deliver
        # them must not commit later without them: commit() rolls it back.
        if events and not self._can_take_events:
            names = ", ".join(sorted({type(event).__name__ for event in events}))
            raise UnhandledEventsError(
                f"entities recorded {len(events)} domain event(s) ({names}) but this unit "
                "of work has no event dispatcher; nothing was written. Create it from a "
                "UnitOfWorkFactory given a dispatcher (and an outbox for crash safety)"
            )

    def _pull_events(self) -> list[object]:
        events: list[object] = []
        for repository in self._binding.repositories:
            for entity in repository._tracked_entities():  # noqa: SLF001 - the binding's protocol
                pull = getattr(entity, "pull_events", None)
                if pull is not None:
                    events.extend(pull())
        return events

    def _forget_tracked(self) -> None:
        for repository in self._binding.repositories:
            repository._forget_all()  # noqa: SLF001 - the binding's protocol

    async def _rollback_quietly(self) -> None:
        # The commit's own exception is the one to report; a failing rollback (the
        # connection is gone) must not replace it.
        try:
            await self._rollback_transaction()
        except Exception:
            logger.exception("rollback after a failed commit failed as well")

    async def _after_commit(self, events: list[object]) -> None:
        callbacks, self._callbacks = self._callbacks, []
        failures = await self._deliver_events(events) if events else []
        for callback in callbacks:
            try:
                await callback()
            except Exception as error:  # noqa: BLE001 - the rest still run; all are reported
                failures.append(error)
        if failures:
            details = "; ".join(f"{type(error).__name__}: {error}" for error in failures)
            raise AfterCommitError(
                f"the transaction was committed, but {len(failures)} action(s) after the "
                f"commit failed: {details}",
                failures,
            ) from failures[0]
