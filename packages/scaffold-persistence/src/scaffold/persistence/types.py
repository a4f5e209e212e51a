"""The protocols where scaffold-persistence meets application code and other packages.

Domain code never imports this package: its entities and ids only have to fit these
shapes. Packages that need a transaction (scaffold-tasks' transactional enqueue) or
after-commit hooks (publishing to pub/sub) define the same small protocols on their side;
a unit of work from this package satisfies them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable


class EntityId(Protocol):
    """An entity's id as a value object: hashable, with the raw key in `value`."""

    @property
    def value(self) -> object: ...


class Entity(Protocol):
    """A domain object with an identity."""

    @property
    def id(self) -> EntityId: ...


@runtime_checkable
class RecordsEvents(Protocol):
    """An entity that records domain events; the unit of work pulls them at commit."""

    def pull_events(self) -> Sequence[object]:
        """Return the events recorded since the last call, and forget them."""
        ...


type EventDispatcher = Callable[[object], Awaitable[None]]
"""Receives each domain event after the transaction that recorded it committed."""

type AfterCommitCallback = Callable[[], Awaitable[None]]
"""Runs once after the unit of work's transaction committed; never after a rollback."""


class EventCodec(Protocol):
    """Turns domain events into outbox rows (a topic and a JSON text) and back."""

    def encode(self, event: object) -> tuple[str, str]: ...

    def decode(self, topic: str, payload: str) -> object: ...


class SqlTransaction(Protocol):
    """Raw SQL in the same transaction: the seam for scaffold-tasks' transactional enqueue.

    `execute_sql` runs a SQLAlchemy `text()` statement with `:name` parameters inside the
    unit of work's current transaction, so what it writes commits or rolls back together
    with the aggregates. `dialect_name` is `"postgresql"` or `"sqlite"`, for SQL that
    differs between the two.
    """

    @property
    def dialect_name(self) -> str: ...

    async def execute_sql(self, statement: str, parameters: Mapping[str, object]) -> None: ...


class AfterCommitHooks(Protocol):
    """Registers callbacks that run only after the transaction committed."""

    def after_commit(self, callback: AfterCommitCallback) -> None: ...
