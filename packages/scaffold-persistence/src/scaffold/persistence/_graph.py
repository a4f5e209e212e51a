"""Change tracking: copy what differs from a freshly mapped model onto the loaded one.

At commit the repository maps every tracked entity to a new, transient model object
(the application's `_map_entity_to_dto`) and lays it over the persistent object that was
loaded. Only values that differ are set, so SQLAlchemy's flush writes only changed
columns of changed rows. Child rows reached through one-to-many relationships belong to
the aggregate: they are matched by primary key, updated in place, added, or deleted when
the entity no longer has them. Other aggregates are referenced by id columns, not by
relationships, so many-to-one and many-to-many relationships are refused when a mapping
sets them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import MANYTOONE, ONETOMANY, selectinload

from ._errors import MappingError

if TYPE_CHECKING:
    from sqlalchemy.orm import Mapper, RelationshipProperty, Session
    from sqlalchemy.orm.strategy_options import _AbstractLoad


def apply_changes(
    session: Session, target: object, source: object, came_from: object = None
) -> bool:
    """Make persistent `target` equal to transient `source`; return whether anything changed.

    Only attributes that the mapping set on `source` are compared, so columns filled by
    the database or the ORM (timestamps, the version) keep their values.
    """
    mapper: Mapper[Any] = sa.inspect(target).mapper
    given = sa.inspect(source).dict
    loaded = sa.inspect(target).dict
    changed = False
    version = version_key(mapper)
    for prop in mapper.column_attrs:
        key = prop.key
        if key not in given or key == version:
            continue
        new = given[key]
        old = loaded[key] if key in loaded else getattr(target, key)
        if new is old or new == old:
            continue
        if any(column.primary_key for column in prop.columns):
            raise MappingError(
                f"{mapper.class_.__name__}.{key} is part of the primary key and changed from "
                f"{old!r} to {new!r}; an entity's id cannot change"
            )
        setattr(target, key, new)
        changed = True
    for relationship in mapper.relationships:
        if relationship.key in given:
            changed |= _apply_relationship(session, relationship, target, source, came_from)
    return changed


def _apply_relationship(
    session: Session,
    relationship: RelationshipProperty[Any],
    target: object,
    source: object,
    came_from: object,
) -> bool:
    new = sa.inspect(source).dict[relationship.key]
    owner = type(target).__name__
    if relationship.direction is MANYTOONE:
        if new is None or new is came_from:
            return False  # the back reference to the parent being applied
        raise MappingError(
            f"the mapping set {owner}.{relationship.key}, a many-to-one relationship to "
            f"{relationship.mapper.class_.__name__}: an aggregate references other aggregates "
            "by their id columns; set the foreign key column instead"
        )
    if relationship.direction is not ONETOMANY:
        raise MappingError(
            f"the mapping set {owner}.{relationship.key}, a many-to-many relationship: "
            "an aggregate keeps its own rows in one-to-many relationships and references "
            "other aggregates by id; map the association as child rows instead"
        )
    if relationship.uselist:
        return _apply_collection(session, relationship, target, source, list(new or ()))
    return _apply_single(session, relationship, target, source, new)


def _apply_collection(
    session: Session,
    relationship: RelationshipProperty[Any],
    target: object,
    source: object,
    new_children: list[object],
) -> bool:
    key = relationship.key
    old_children = list(getattr(target, key))
    by_key = {_identity(child): child for child in old_children}
    result: list[Any] = []
    changed = False
    for child in new_children:
        existing = by_key.pop(_identity(child), None)
        if existing is None:
            result.append(child)
            changed = True
        else:
            changed |= apply_changes(session, existing, child, came_from=source)
            result.append(existing)
    same_members = len(result) == len(old_children) and all(
        a is b for a, b in zip(result, old_children, strict=True)
    )
    if not same_members:
        setattr(target, key, result)
        changed = True
    for removed in by_key.values():
        session.delete(removed)
    return changed


def _apply_single(
    session: Session,
    relationship: RelationshipProperty[Any],
    target: object,
    source: object,
    new_child: object,
) -> bool:
    key = relationship.key
    old_child = getattr(target, key)
    if new_child is None and old_child is None:
        return False
    if (
        old_child is not None
        and new_child is not None
        and _identity(old_child) == _identity(new_child)
    ):
        return apply_changes(session, old_child, new_child, came_from=source)
    setattr(target, key, new_child)
    if old_child is not None:
        session.delete(old_child)
    return True


def _identity(instance: object) -> tuple[Any, ...]:
    state = sa.inspect(instance)
    if state.identity is not None:
        return tuple(state.identity)
    return tuple(state.mapper.primary_key_from_instance(instance))


@functools.cache
def version_key(mapper: Mapper[Any]) -> str | None:
    """The attribute holding the model's version (`VersionMixin`), if it has one."""
    column = mapper.version_id_col
    return None if column is None else mapper.get_property_by_column(column).key


@functools.cache
def owned_relationships(mapper: Mapper[Any]) -> frozenset[str]:
    """The keys of the one-to-many relationships that hold an aggregate's own rows."""
    return frozenset(r.key for r in mapper.relationships if r.direction is ONETOMANY)


@functools.cache
def aggregate_loading(mapper: Mapper[Any]) -> tuple[_AbstractLoad, ...]:
    """Loader options that fetch an aggregate's child rows with it (one-to-many, nested)."""
    return _loading(mapper, frozenset({mapper}))


def _loading(mapper: Mapper[Any], seen: frozenset[Mapper[Any]]) -> tuple[_AbstractLoad, ...]:
    options: list[_AbstractLoad] = []
    for relationship in mapper.relationships:
        if relationship.direction is ONETOMANY and relationship.mapper not in seen:
            nested = _loading(relationship.mapper, seen | {relationship.mapper})
            option = selectinload(relationship.class_attribute)
            options.append(option.options(*nested) if nested else option)
    return tuple(options)
