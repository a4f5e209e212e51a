"""`GenericSqlRepository`: a collection of aggregates persisted through SQLAlchemy.

An application subclasses it once per aggregate with the entity type, its id type and
its persistence model, writes the two mappings (`_map_entity_to_dto`,
`_map_dto_to_entity`) and its own query methods on `self._session`, exactly as in the
0.9 tutorial. The repository keeps an identity map (one entity object per id within a
unit of work) and, at commit, writes only what changed; a model with `VersionMixin`
gets optimistic concurrency.

For speed, an application may also override `_update_dto`: at commit the repository then
lets it write a loaded entity's values straight onto the model it was loaded from,
instead of mapping a fresh model and copying what differs.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from types import get_original_bases
from typing import TYPE_CHECKING, Any, ClassVar, final, get_args, get_origin

import sqlalchemy as sa
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.orm.attributes import instance_state

from ._binding import binding_of
from ._errors import DuplicateEntityError, EntityNotTrackedError, MappingError
from ._graph import (
    aggregate_loading,
    apply_changes,
    owned_relationships,
    settle_in_place,
    version_key,
)
from .types import Entity, EntityId

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Mapper, Session
    from sqlalchemy.orm.strategy_options import _AbstractLoad

__all__ = ["Entity", "EntityId", "GenericSqlRepository"]


@dataclass(slots=True)
class _Tracked[E]:
    entity: E
    dto: Any
    new: bool
    removed: bool = False


class GenericSqlRepository[E: Entity, ID: EntityId, DTO](abc.ABC):
    """A repository of aggregates of type `E` with ids `ID`, stored as model `DTO`.

    Parameters:
        session: the unit of work's session; the repository must be used inside that
            unit of work's `async with` block.
    """

    dto_class: ClassVar[type[Any]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "dto_class" in cls.__dict__:
            return
        for base in get_original_bases(cls):
            if get_origin(base) is GenericSqlRepository:
                arguments = get_args(base)
                if len(arguments) == 3 and isinstance(arguments[2], type):  # noqa: PLR2004 - E, ID, DTO
                    cls.dto_class = arguments[2]
                return

    def __init__(self, session: AsyncSession) -> None:
        if not hasattr(type(self), "dto_class"):
            raise MappingError(
                f"{type(self).__name__} does not say which model it stores: subclass "
                "GenericSqlRepository[Entity, EntityId, Model] or set `dto_class`"
            )
        self._mapper: Mapper[Any] = sa.inspect(self.dto_class)
        if len(self._mapper.primary_key) != 1:
            columns = ", ".join(column.name for column in self._mapper.primary_key)
            raise MappingError(
                f"{self.dto_class.__name__} has a composite primary key ({columns}); "
                "an aggregate root's model needs a single-column primary key"
            )
        self._session = session
        self._tracked: dict[object, _Tracked[E]] = {}
        self._binding = binding_of(session)
        self._binding.register(self)
        self._updates_in_place = (
            type(self)._update_dto is not GenericSqlRepository._update_dto  # noqa: SLF001 - is it overridden
        )

    async def get(self, entity_id: ID) -> E | None:
        """The aggregate with this id, or None; the same object every time in one unit."""
        self._binding.require_active(self, "get")
        key = entity_id.value
        tracked = self._tracked.get(key)
        if tracked is not None:
            return None if tracked.removed else tracked.entity
        dto = await self._session.get(self.dto_class, key, options=self._aggregate_loading())
        if dto is None:
            return None
        # The mapping may reach relationships the eager loading did not cover; inside
        # run_sync such an access loads them instead of failing.
        return await self._session.run_sync(lambda _: self._track_loaded(dto))

    def add(self, entity: E) -> None:
        """Add a new aggregate; it is inserted at commit (or before a query, by autoflush)."""
        self._binding.require_active(self, "add")
        key = entity.id.value
        tracked = self._tracked.get(key)
        if tracked is not None:
            what = "was removed in" if tracked.removed else "is already part of"
            raise DuplicateEntityError(
                f"cannot add {type(entity).__name__} {key}: an entity with this id {what} "
                "this unit of work"
            )
        dto = self._map_entity_to_dto(entity)
        self._session.add(dto)
        self._tracked[key] = _Tracked(entity, dto, new=True)

    async def remove(self, entity: E) -> None:
        """Remove an aggregate loaded or added in this unit of work (with its child rows)."""
        self._binding.require_active(self, "remove")
        key = entity.id.value
        tracked = self._tracked.get(key)
        if tracked is None or tracked.entity is not entity or tracked.removed:
            raise EntityNotTrackedError(
                f"cannot remove {type(entity).__name__} {key}: remove() takes an entity that "
                "this unit of work loaded or added (and did not remove yet)"
            )
        if tracked.new and instance_state(tracked.dto).pending:
            # Not sent yet: forgetting it is enough. Once a query's autoflush inserted it,
            # it has to be deleted like any stored aggregate.
            self._session.expunge(tracked.dto)
            del self._tracked[key]
            return
        await self._session.delete(tracked.dto)
        tracked.removed = True

    @final
    def map_dto_to_entity_and_track(self, dto: DTO) -> E:
        """Map a loaded model to its entity and track it (for query methods).

        If this unit of work already tracks the entity with that id, that same object is
        returned, so changes made to it are not lost.
        """
        self._binding.require_active(self, "map_dto_to_entity_and_track")
        state = instance_state(dto)
        if state.key is not None:
            unloaded = [key for key in owned_relationships(state.mapper) if key not in dto.__dict__]
            if unloaded:
                raise _not_loaded(dto, ", ".join(unloaded))
        try:
            return self._track_loaded(dto)
        except (MissingGreenlet, StatementError) as error:
            if isinstance(error, StatementError) and not isinstance(error.orig, MissingGreenlet):
                raise
            raise _not_loaded(dto, "a relationship") from error

    @abc.abstractmethod
    def _map_entity_to_dto(self, entity: E) -> DTO:
        """Convert a domain entity (with its child entities) to a new, transient model."""

    @abc.abstractmethod
    def _map_dto_to_entity(self, dto: DTO) -> E:
        """Convert a loaded model (with its child rows) to a domain entity."""

    def _update_dto(self, entity: E, dto: DTO) -> None:
        """Write a loaded entity's current values onto the model it was loaded from.

        Optional: override it to save building a fresh model per loaded aggregate at
        commit. The override assigns every value (and sets, appends or removes child rows
        in its relationships) on `dto`, the tracked model; assigning an unchanged value
        is harmless, as only values that differ from the loaded ones are written and only
        then is the version bumped. Assign new values rather than changing a mutable
        value (a JSON dict, a list column) in place. Child rows removed from a
        relationship are deleted. New aggregates (`add`) are still mapped with
        `_map_entity_to_dto`.

        Without an override the repository maps a fresh model and copies what differs.
        """
        apply_changes(self._session.sync_session, dto, self._map_entity_to_dto(entity))

    def _select(self) -> sa.Select[tuple[DTO]]:
        """`SELECT` of the model that also loads the aggregate's child rows."""
        return sa.select(self.dto_class).options(*self._aggregate_loading())

    def _aggregate_loading(self) -> tuple[_AbstractLoad, ...]:
        return aggregate_loading(self._mapper)

    # Driven by the unit of work.

    def _track_loaded(self, dto: DTO) -> E:
        identity = instance_state(dto).key
        if identity is None:
            raise MappingError(
                f"{type(dto).__name__} is not a loaded row: map_dto_to_entity_and_track() "
                "takes models returned by a query on this repository's session"
            )
        key = identity[1][0]
        tracked = self._tracked.get(key)
        if tracked is not None:
            return tracked.entity
        entity = self._map_dto_to_entity(dto)
        self._tracked[key] = _Tracked(entity, dto, new=False)
        return entity

    def _tracked_entities(self) -> Iterator[E]:
        return (tracked.entity for tracked in list(self._tracked.values()))

    def _forget_all(self) -> None:
        self._tracked.clear()

    def _new_keys(self) -> list[object]:
        return [key for key, tracked in self._tracked.items() if tracked.new]

    def _write_changes(self, session: Session) -> None:
        """Lay every tracked entity over its model; bump the version of changed roots."""
        version = version_key(self._mapper)
        for key, tracked in self._tracked.items():
            if tracked.removed:
                continue
            if tracked.entity.id.value != key:
                raise MappingError(
                    f"{type(tracked.entity).__name__} {key} changed its id to "
                    f"{tracked.entity.id.value}; an entity's id cannot change"
                )
            if self._updates_in_place and not tracked.new:
                self._update_dto(tracked.entity, tracked.dto)
                changed = settle_in_place(session, tracked.dto)
            else:
                fresh = self._map_entity_to_dto(tracked.entity)
                changed = apply_changes(session, tracked.dto, fresh)
            if changed and version is not None and not tracked.new:
                setattr(tracked.dto, version, getattr(tracked.dto, version) + 1)


def _not_loaded(dto: object, what: str) -> MappingError:
    return MappingError(
        f"{type(dto).__name__} was mapped before {what} of it was loaded; load the aggregate "
        "with its rows: query with self._select() (or selectinload options), or set "
        "lazy='selectin' on the relationship"
    )
