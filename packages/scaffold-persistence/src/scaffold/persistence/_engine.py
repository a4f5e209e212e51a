"""Engine and session set-up from one URL: SQLite through aiosqlite, PostgreSQL through psycopg."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ._errors import DatabaseUnavailableError
from ._url import DatabaseUrl, parse_database_url

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.engine.interfaces import DBAPIConnection, ExceptionContext
    from sqlalchemy.pool import ConnectionPoolEntry


class Database:
    """An async engine and its session factory, configured for SQLite or PostgreSQL.

    Parameters:
        url: `sqlite:///path.db`, `sqlite://` (in memory) or `postgresql://...`; the async
            driver (aiosqlite, psycopg) is filled in.
        pool_size, max_overflow, pool_timeout, pool_recycle: the connection pool (file
            SQLite and PostgreSQL). An in-memory SQLite database has one connection.
        busy_timeout: seconds a SQLite writer waits for the single write lock.
        connect_timeout: seconds to wait for a PostgreSQL server to accept a connection.
        echo: log every SQL statement.

    Nothing connects until the first statement; `check()` connects on purpose. A server
    that cannot be reached raises `DatabaseUnavailableError` naming the URL.
    """

    def __init__(
        self,
        url: str | sa.URL,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_timeout: float = 30.0,
        pool_recycle: float = 1800.0,
        busy_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        echo: bool = False,
    ) -> None:
        self.url: DatabaseUrl = parse_database_url(url)
        self.engine: AsyncEngine = _create_engine(
            self.url,
            pool={
                "pool_size": pool_size,
                "max_overflow": max_overflow,
                "pool_timeout": pool_timeout,
                "pool_recycle": pool_recycle,
            },
            busy_timeout=busy_timeout,
            connect_timeout=connect_timeout,
            echo=echo,
        )
        sa.event.listen(self.engine.sync_engine, "handle_error", self._explain_connect_error)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect_name(self) -> str:
        """`"sqlite"` or `"postgresql"`."""
        return self.url.dialect_name

    def session(self) -> AsyncSession:
        """A new session; objects stay readable after commit (no expiry, hence no lazy IO)."""
        return self._sessions()

    def __call__(self) -> AsyncSession:
        return self._sessions()

    async def check(self) -> None:
        """Connect once and run `SELECT 1`, raising `DatabaseUnavailableError` if that fails."""
        async with self.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def create_all(self, metadata: sa.MetaData) -> None:
        """Create the tables of `metadata` that do not exist yet (tests, prototypes)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.dispose()

    def __repr__(self) -> str:
        return f"Database({str(self.url)!r})"

    def _explain_connect_error(self, context: ExceptionContext) -> BaseException | None:
        # Errors while opening a connection arrive without a connection; statement errors
        # (constraint violations, syntax) keep SQLAlchemy's own exception, and a failed
        # pre-ping must stay a disconnect so that the pool replaces the connection.
        if context.is_pre_ping or context.connection is not None:
            return None
        if context.execution_context is not None:
            return None
        original = context.original_exception
        reason = str(original).strip() or type(original).__name__
        return DatabaseUnavailableError(f"cannot connect to the database at {self.url}: {reason}")


def _create_engine(
    url: DatabaseUrl,
    *,
    pool: dict[str, Any],
    busy_timeout: float,
    connect_timeout: float,
    echo: bool,
) -> AsyncEngine:
    if url.dialect_name == "sqlite":
        options: dict[str, Any] = {"connect_args": {"timeout": busy_timeout}}
        if url.in_memory:
            # Every connection to ":memory:" opens a database of its own, so one shared
            # connection is the database; sessions queue for it instead of interleaving.
            options |= {"poolclass": sa.AsyncAdaptedQueuePool, "pool_size": 1, "max_overflow": 0}
            options["pool_timeout"] = pool["pool_timeout"]
        else:
            options |= pool
        engine = create_async_engine(url.url, echo=echo, **options)
        sa.event.listen(
            engine.sync_engine, "connect", _SqlitePragmas(busy_timeout, wal=not url.in_memory)
        )
        return engine
    return create_async_engine(
        url.url,
        echo=echo,
        pool_pre_ping=True,
        connect_args={"connect_timeout": max(1, round(connect_timeout))},
        **pool,
    )


class _SqlitePragmas:
    """Per-connection SQLite settings: WAL for concurrent readers, foreign keys enforced."""

    def __init__(self, busy_timeout: float, *, wal: bool) -> None:
        self.busy_timeout_ms = round(busy_timeout * 1000)
        self.wal = wal

    def __call__(self, connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = connection.cursor()
        try:
            if self.wal:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        finally:
            cursor.close()
