"""In-memory repositories and units of work, for the unit tests of application code.

They keep the promises of the SQL ones: one entity object per id within a unit, copies
so that nothing leaks between units or survives a rollback, commits that write only
changed aggregates, `ConcurrencyError` on a lost update, domain events and after-commit
callbacks after commit only. The same contract test suite runs against both.

    class InMemoryMessageRepository(InMemoryRepository[Message, MessageId], MessageRepository):
        async def get_user_messages(self, user_id: UserId) -> Sequence[Message]:
            return [m for m in self._all() if m.user_id == user_id]

    class InMemoryUnitOfWork(GenericInMemoryUnitOfWork, UnitOfWork):
        def __init__(self, session: InMemorySession) -> None:
            super().__init__(session)
            self.messages = InMemoryMessageRepository(session)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._binding import Binding
from ._errors import ConcurrencyError, DuplicateEntityError, EntityNotTrackedError, MappingError
from ._lifecycle import UnitOfWorkBase
from ._snapshot import snapshot
from .types import Entity, EntityId

if TYPE_CHECKING:
    from .types import EventDispatcher

__all__ = [
    "GenericInMemoryUnitOfWork",
    "InMemoryDatabase",
    "InMemoryRepository",
    "InMemorySession",
    "InMemoryUnitOfWorkFactory",
]


@dataclass(slots=True)
class _Row:
    version: int
    entity: object


class InMemoryDatabase:
    """The committed aggregates of every in-memory repository, one table per repository class."""

    def __init__(self) -> None:
        self._tables: dict[type, dict[object, _Row]] = {}

    def session(self) -> InMemorySession:
        """A new session, to build one unit of work and its repositories on."""
        return InMemorySession(self)

    def table(self, repository_type: type) -> dict[object, _Row]:
        return self._tables.setdefault(repository_type, {})


class InMemorySession:
    """What one in-memory unit of work and its repositories share."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self.database = database
        self.binding = Binding()


@dataclass(slots=True)
class _Tracked[E]:
    entity: E
    version: int  # the committed version it was loaded at; 0 for a new entity
    state: object  # snapshot at load; None for a new entity
    new: bool
    removed: bool = False


class InMemoryRepository[E: Entity, ID: EntityId]:
    """A repository of aggregates `E` kept in an `InMemoryDatabase`.

    Subclass it with the application's query methods; they read `self._all()`.
    """

    def __init__(self, session: InMemorySession) -> None:
        self._session = session
        self._binding = session.binding
        self._binding.register(self)
        self._tracked: dict[object, _Tracked[E]] = {}

    async def get(self, entity_id: ID) -> E | None:
        """The aggregate with this id, or None; the same object every time in one unit."""
        self._binding.require_active(self, "get")
        return self._load(entity_id.value)

    def add(self, entity: E) -> None:
        """Add a new aggregate; it is stored at commit."""
        self._binding.require_active(self, "add")
        key = entity.id.value
        tracked = self._tracked.get(key)
        if tracked is not None:
            what = "was removed in" if tracked.removed else "is already part of"
            raise DuplicateEntityError(
                f"cannot add {type(entity).__name__} {key}: an entity with this id {what} "
                "this unit of work"
            )
        self._tracked[key] = _Tracked(entity, 0, None, new=True)

    async def remove(self, entity: E) -> None:
        """Remove an aggregate loaded or added in this unit of work."""
        self._binding.require_active(self, "remove")
        key = entity.id.value
        tracked = self._tracked.get(key)
        if tracked is None or tracked.entity is not entity or tracked.removed:
            raise EntityNotTrackedError(
                f"cannot remove {type(entity).__name__} {key}: remove() takes an entity that "
                "this unit of work loaded or added (and did not remove yet)"
            )
        if tracked.new:
            del self._tracked[key]
        else:
            tracked.removed = True

    def _all(self) -> list[E]:
        """Every aggregate this unit of work sees: committed ones and added ones, not removed."""
        self._binding.require_active(self, "_all")
        for key in list(self._table):
            self._load(key)
        return [tracked.entity for tracked in self._tracked.values() if not tracked.removed]

    @property
    def _table(self) -> dict[object, _Row]:
        return self._session.database.table(type(self))

    def _load(self, key: object) -> E | None:
        tracked = self._tracked.get(key)
        if tracked is not None:
            return None if tracked.removed else tracked.entity
        row = self._table.get(key)
        if row is None:
            return None
        entity: E = copy.deepcopy(row.entity)  # type: ignore[assignment] # stored from an E
        self._tracked[key] = _Tracked(entity, row.version, snapshot(entity), new=False)
        return entity

    # Driven by the unit of work.

    def _tracked_entities(self) -> Iterator[E]:
        return (tracked.entity for tracked in list(self._tracked.values()))

    def _forget_all(self) -> None:
        self._tracked.clear()

    def _prepare_commit(self) -> list[Callable[[], None]]:
        """Check every change against the committed state; return the writes to apply."""
        table = self._table
        writes: list[Callable[[], None]] = []
        for key, tracked in self._tracked.items():
            name = f"{type(tracked.entity).__name__} {key}"
            if tracked.entity.id.value != key:
                raise MappingError(f"{name} changed its id; an entity's id cannot change")
            row = table.get(key)
            if tracked.new:
                if row is not None:
                    raise DuplicateEntityError(
                        f"cannot add {name}: an entity with this id already exists; nothing "
                        "was written"
                    )
                writes.append(_put(table, key, 1, tracked.entity))
                continue
            if not tracked.removed and snapshot(tracked.entity) == tracked.state:
                continue
            if row is None or row.version != tracked.version:
                raise ConcurrencyError(
                    f"another unit of work changed or removed {name} after this one loaded it; "
                    "nothing was written: load it again and retry"
                )
            if tracked.removed:
                writes.append(_delete(table, key))
            else:
                writes.append(_put(table, key, tracked.version + 1, tracked.entity))
        return writes


def _put(
    table: dict[object, _Row], key: object, version: int, entity: object
) -> Callable[[], None]:
    stored = copy.deepcopy(entity)

    def write() -> None:
        table[key] = _Row(version, stored)

    return write


def _delete(table: dict[object, _Row], key: object) -> Callable[[], None]:
    def write() -> None:
        del table[key]

    return write


class GenericInMemoryUnitOfWork(UnitOfWorkBase):
    """The in-memory counterpart of `GenericSqlUnitOfWork`: subclass it the same way."""

    def __init__(self, session: InMemorySession) -> None:
        super().__init__(session.binding)
        self._session = session

    async def flush(self) -> None:
        """Nothing to send ahead of the commit in memory; checks the unit is open."""
        self.require_open("flush()")

    def use_events(self, dispatcher: EventDispatcher) -> None:
        """Deliver domain events to `dispatcher` after commit."""
        self._dispatcher = dispatcher

    async def _commit_transaction(self, events: list[object]) -> None:
        del events  # nothing to store them in: they are delivered after the commit
        writes: list[Callable[[], None]] = []
        for repository in self._binding.repositories:
            if isinstance(repository, InMemoryRepository):
                writes.extend(repository._prepare_commit())  # noqa: SLF001 - the unit drives its repositories
        # Every check passed before anything is written: a commit applies all or nothing.
        for write in writes:
            write()

    async def _rollback_transaction(self) -> None:
        """Nothing was written before the commit, so there is nothing to undo."""


class InMemoryUnitOfWorkFactory[U: GenericInMemoryUnitOfWork]:
    """Creates the application's in-memory unit of work on a new session."""

    def __init__(
        self,
        database: InMemoryDatabase,
        unit_of_work: Callable[[InMemorySession], U],
        *,
        dispatcher: EventDispatcher | None = None,
    ) -> None:
        self._database = database
        self._unit_of_work = unit_of_work
        self._dispatcher = dispatcher

    def create(self) -> U:
        """A new unit of work; use it as `async with uow:`."""
        unit = self._unit_of_work(self._database.session())
        if self._dispatcher is not None:
            unit.use_events(self._dispatcher)
        return unit
