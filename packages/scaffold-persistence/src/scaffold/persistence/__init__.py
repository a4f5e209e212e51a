"""scaffold.persistence: unit of work and repositories on SQLAlchemy 2 async.

SQLite (through aiosqlite) is the embedded default, PostgreSQL (through psycopg 3) the
production engine; the same code runs on both. Migrations live in
`scaffold.persistence.migrations` (imported on its own, since it loads Alembic).
"""

from ._engine import Database
from ._errors import (
    AfterCommitError,
    ConcurrencyError,
    DatabaseUnavailableError,
    DatabaseUrlError,
    DuplicateEntityError,
    EntityNotTrackedError,
    EventCodecError,
    MappingError,
    NestedUnitOfWorkError,
    PersistenceError,
    UnhandledEventsError,
    UnitOfWorkClosedError,
    UnitOfWorkError,
)
from ._ids import uuid7, uuid7_time
from .events import DataclassEventCodec, EventRecorder
from .memory import (
    GenericInMemoryUnitOfWork,
    InMemoryDatabase,
    InMemoryRepository,
    InMemorySession,
    InMemoryUnitOfWorkFactory,
)
from .model import Base, EntityMixin, TimestampMixin, UtcDateTime, VersionMixin, utc_now
from .outbox import Outbox, OutboxRelay, outbox_table
from .repository import GenericSqlRepository
from .types import (
    AfterCommitCallback,
    AfterCommitHooks,
    Entity,
    EntityId,
    EventCodec,
    EventDispatcher,
    RecordsEvents,
    SqlTransaction,
)
from .uow import GenericSqlUnitOfWork, UnitOfWorkFactory

__all__ = [
    "AfterCommitCallback",
    "AfterCommitError",
    "AfterCommitHooks",
    "Base",
    "ConcurrencyError",
    "Database",
    "DatabaseUnavailableError",
    "DatabaseUrlError",
    "DataclassEventCodec",
    "DuplicateEntityError",
    "Entity",
    "EntityId",
    "EntityMixin",
    "EntityNotTrackedError",
    "EventCodec",
    "EventCodecError",
    "EventDispatcher",
    "EventRecorder",
    "GenericInMemoryUnitOfWork",
    "GenericSqlRepository",
    "GenericSqlUnitOfWork",
    "InMemoryDatabase",
    "InMemoryRepository",
    "InMemorySession",
    "InMemoryUnitOfWorkFactory",
    "MappingError",
    "NestedUnitOfWorkError",
    "Outbox",
    "OutboxRelay",
    "PersistenceError",
    "RecordsEvents",
    "SqlTransaction",
    "TimestampMixin",
    "UnhandledEventsError",
    "UnitOfWorkClosedError",
    "UnitOfWorkError",
    "UnitOfWorkFactory",
    "UtcDateTime",
    "VersionMixin",
    "outbox_table",
    "utc_now",
    "uuid7",
    "uuid7_time",
]
