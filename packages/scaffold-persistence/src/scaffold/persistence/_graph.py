"""Change tracking: copy what differs from a freshly mapped model onto the loaded one.

At commit the repository maps every tracked entity to a new, transient model object
(the application's `_map_entity_to_dto`) and lays it over the persistent object that was
loaded. Only values that differ are set, so SQLAlchemy's flush writes only changed
columns of changed rows. Child rows reached through one-to-many relationships belong to
the aggregate: they are matched by primary key, updated in place, added, or deleted when
the entity no longer has them. Other aggregates are referenced by id columns, not by
relationships, so many-to-one and many-to-many relationships are refused when a mapping
sets them. A repository that overrides `_update_dto` writes onto the loaded objects
itself; `settle_in_place` then reads what changed from SQLAlchemy's attribute history.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import MANYTOONE, ONETOMANY, selectinload
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE

from ._errors import MappingError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import InstanceState, Mapper, RelationshipProperty, Session
    from sqlalchemy.orm.strategy_options import _AbstractLoad


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to compare on one model, worked out once per mapper."""

    name: str
    columns: tuple[str, ...]  # plain columns: neither the primary key nor the version
    primary_key: tuple[str, ...]
    owned: tuple[tuple[str, bool, _Plan], ...]  # one-to-many: key, holds a list, child plan
    references: tuple[RelationshipProperty[Any], ...]  # other relationships

    def identity(self, instance: object) -> tuple[object, ...]:
        """The primary key of a loaded or a new instance of this model."""
        values = instance.__dict__
        return tuple(values.get(key) for key in self.primary_key)


@functools.cache
def _plan(mapper: Mapper[Any]) -> _Plan:
    primary_key = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
    skipped = {*primary_key, version_key(mapper)}
    relationships = list(mapper.relationships)
    return _Plan(
        name=mapper.class_.__name__,
        columns=tuple(p.key for p in mapper.column_attrs if p.key not in skipped),
        primary_key=primary_key,
        owned=tuple(
            (r.key, bool(r.uselist), _plan(r.mapper))
            for r in relationships
            if r.direction is ONETOMANY and r.mapper is not mapper
        ),
        references=tuple(
            r for r in relationships if r.direction is not ONETOMANY or r.mapper is mapper
        ),
    )


def apply_changes(session: Session, target: object, source: object) -> bool:
    """Make persistent `target` equal to transient `source`; return whether anything changed.

    Only attributes that the mapping set on `source` are compared, so columns filled by
    the database or the ORM (timestamps, the version) keep their values.
    """
    return _apply(session, _plan(instance_state(target).mapper), target, source, None)


def _apply(session: Session, plan: _Plan, target: object, source: object, parent: object) -> bool:
    given = source.__dict__
    changed = _apply_columns(plan, target, given)
    for key, uselist, child_plan in plan.owned:
        if key in given:
            new_value = given[key]
            if uselist:
                new_children = list(new_value or ())
                changed |= _apply_collection(
                    session, child_plan, key, target, source=source, new_children=new_children
                )
            else:
                changed |= _apply_single(
                    session, child_plan, key, target, source=source, new_child=new_value
                )
    for relationship in plan.references:
        if relationship.key in given:
            _refuse_reference(plan, relationship, given[relationship.key], parent)
    return changed


def _apply_columns(plan: _Plan, target: object, given: dict[str, Any]) -> bool:
    loaded = target.__dict__
    changed = False
    for key in plan.columns:
        if key in given:
            new = given[key]
            old = loaded[key] if key in loaded else getattr(target, key)
            if new is not old and new != old:
                setattr(target, key, new)
                changed = True
    for key in plan.primary_key:
        if key in given and given[key] != loaded.get(key):
            raise MappingError(
                f"{plan.name}.{key} is part of the primary key and changed from "
                f"{loaded.get(key)!r} to {given[key]!r}; an entity's id cannot change"
            )
    return changed


def settle_in_place(session: Session, target: object) -> bool:
    """Whether persistent `target` was changed in place (by `_update_dto`); settle its rows.

    The mapping wrote onto the loaded objects themselves, so SQLAlchemy's attribute
    history says what differs: a column counts only when its value is not equal to the
    loaded one, and a child row taken out of a relationship is deleted, as when a fresh
    model is laid over the loaded one.
    """
    return _settle(session, _plan(instance_state(target).mapper), target)


def _settle(session: Session, plan: _Plan, target: object) -> bool:
    state = instance_state(target)
    loaded = target.__dict__
    changed = False
    # committed_state holds the loaded value of every attribute set since the load.
    for key, old in state.committed_state.items():
        if key in plan.columns:
            changed = changed or not state.manager[key].impl.is_equal(loaded.get(key), old)
        elif key in plan.primary_key and old != loaded.get(key):
            raise MappingError(
                f"{plan.name}.{key} is part of the primary key and changed from "
                f"{old!r} to {loaded.get(key)!r}; an entity's id cannot change"
            )
    for key, uselist, child_plan in plan.owned:
        if key in loaded:  # one never loaded was never touched: its rows are as stored
            changed |= _settle_rows(session, state, key, uselist=uselist, plan=child_plan)
    return changed


def _settle_rows(
    session: Session, state: InstanceState[Any], key: str, *, uselist: bool, plan: _Plan
) -> bool:
    loaded = state.dict
    changed = False
    if key in state.committed_state:  # the relationship itself was set or changed
        history = state.manager[key].impl.get_history(state, loaded, PASSIVE_NO_INITIALIZE)
        for removed in history.deleted or ():
            if removed is not None and instance_state(removed).persistent:
                session.delete(removed)
        changed = bool(history.added or history.deleted)
        kept: Sequence[object] = history.unchanged or ()
    else:
        kept = loaded[key] if uselist else (loaded[key],)
    for child in kept:
        if child is not None:
            changed |= _settle(session, plan, child)
    return changed


def _refuse_reference(
    plan: _Plan, relationship: RelationshipProperty[Any], value: object, came_from: object
) -> None:
    if relationship.direction is MANYTOONE:
        if value is None or value is came_from:
            return  # the back reference to the parent being applied
        raise MappingError(
            f"the mapping set {plan.name}.{relationship.key}, a many-to-one relationship to "
            f"{relationship.mapper.class_.__name__}: an aggregate references other aggregates "
            "by their id columns; set the foreign key column instead"
        )
    if relationship.direction is ONETOMANY:
        raise MappingError(
            f"the mapping set {plan.name}.{relationship.key}, which relates {plan.name} rows "
            "to each other; an aggregate's rows must be of other models (map the tree as "
            "child rows of the root, with a parent id column)"
        )
    raise MappingError(
        f"the mapping set {plan.name}.{relationship.key}, a many-to-many relationship: "
        "an aggregate keeps its own rows in one-to-many relationships and references "
        "other aggregates by id; map the association as child rows instead"
    )


def _apply_collection(
    session: Session,
    plan: _Plan,
    key: str,
    target: object,
    *,
    source: object,
    new_children: list[object],
) -> bool:
    old_children = list(getattr(target, key))
    by_key = {plan.identity(child): child for child in old_children}
    result: list[object] = []
    changed = False
    for child in new_children:
        existing = by_key.pop(plan.identity(child), None)
        if existing is None:
            result.append(child)
            changed = True
        else:
            changed |= _apply(session, plan, existing, child, source)
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
    session: Session, plan: _Plan, key: str, target: object, *, source: object, new_child: object
) -> bool:
    old_child = getattr(target, key)
    if new_child is None and old_child is None:
        return False
    if (
        old_child is not None
        and new_child is not None
        and plan.identity(old_child) == plan.identity(new_child)
    ):
        return _apply(session, plan, old_child, new_child, source)
    setattr(target, key, new_child)
    if old_child is not None:
        session.delete(old_child)
    return True


@functools.cache
def version_key(mapper: Mapper[Any]) -> str | None:
    """The attribute holding the model's version (`VersionMixin`), if it has one."""
    column = mapper.version_id_col
    return None if column is None else mapper.get_property_by_column(column).key


@functools.cache
def owned_relationships(mapper: Mapper[Any]) -> tuple[str, ...]:
    """The keys of the one-to-many relationships that hold an aggregate's own rows."""
    return tuple(key for key, _, _ in _plan(mapper).owned)


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
