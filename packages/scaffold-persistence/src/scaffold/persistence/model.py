"""The declarative base and the mixins that persistence models are built from.

`Base` maps models as dataclasses (so a model is built with keyword arguments, as the
0.9 tutorial does) and gives every `datetime` column the `UtcDateTime` type, which
behaves the same on SQLite and PostgreSQL: it refuses naive datetimes and always hands
back timezone-aware UTC ones. Its metadata carries a naming convention, so constraints
get stable names that Alembic can find again (SQLite's batch migrations depend on that).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    declared_attr,
    mapped_column,
)

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime.datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.datetime.now(datetime.UTC)


class UtcDateTime(sa.types.TypeDecorator[datetime.datetime]):
    """A timestamp stored as UTC and read back as a timezone-aware UTC datetime.

    PostgreSQL stores it as `timestamp with time zone`; SQLite, which has no such type,
    stores the UTC wall time. A naive datetime is refused, because nothing says which
    zone it was meant in (`datetime.now()` is local time): pass `datetime.now(UTC)`.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: sa.Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"UtcDateTime takes a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given for a UtcDateTime column: pass a "
                "timezone-aware datetime such as datetime.now(UTC)"
            )
        utc = value.astimezone(datetime.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self,
        value: datetime.datetime | None,
        dialect: sa.Dialect,  # noqa: ARG002 - the signature is SQLAlchemy's
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


class Base(MappedAsDataclass, DeclarativeBase):
    """The declarative base of an application's persistence models."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime.datetime: UtcDateTime(),
        uuid.UUID: sa.Uuid(),
    }


class EntityMixin(MappedAsDataclass):
    """A UUID primary key named `id` (native `uuid` on PostgreSQL, 32 hex chars on SQLite)."""

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, sort_order=-1)


class TimestampMixin(MappedAsDataclass):
    """`created_at` and `updated_at`, set by the ORM in UTC (and by the server for raw SQL).

    `updated_at` changes only when the row itself is updated, which the repository does
    only when the entity changed.
    """

    created_at: Mapped[datetime.datetime] = mapped_column(
        UtcDateTime(),
        init=False,
        nullable=False,
        insert_default=utc_now,
        server_default=sa.func.current_timestamp(),
        sort_order=90,
    )
    updated_at: Mapped[datetime.datetime] = mapped_column(
        UtcDateTime(),
        init=False,
        nullable=False,
        insert_default=utc_now,
        onupdate=utc_now,
        server_default=sa.func.current_timestamp(),
        sort_order=91,
    )


class VersionMixin(MappedAsDataclass):
    """A `version` column for optimistic concurrency on an aggregate root's model.

    Every commit that changes the aggregate (the root row or any of its child rows)
    increments the version, and the UPDATE only matches the version that was loaded, so
    a concurrent change makes the commit fail with `ConcurrencyError` instead of
    overwriting it. The mixin sets `__mapper_args__`; a model that needs its own must
    keep `version_id_col` and `version_id_generator=False` in them.
    """

    version: Mapped[int] = mapped_column(
        sa.Integer(), init=False, nullable=False, default=1, server_default="1", sort_order=92
    )

    @declared_attr.directive
    @classmethod
    def __mapper_args__(cls) -> dict[str, Any]:
        # The repository bumps the version itself, once per changed aggregate, so that a
        # change to a child row also moves the root's version.
        return {"version_id_col": cls.version, "version_id_generator": False}
