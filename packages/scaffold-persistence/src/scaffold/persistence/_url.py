"""Database URLs: which ones are accepted, and the driver each one runs on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from ._errors import DatabaseUrlError

ACCEPTED = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:// (in memory), "
    "postgresql://user:password@host:5432/database"
)
_SQLITE_DRIVERS = frozenset({"", "aiosqlite"})
_POSTGRES_DRIVERS = frozenset({"", "psycopg", "psycopg_async"})
_MEMORY = frozenset({"", ":memory:"})


@dataclass(frozen=True)
class DatabaseUrl:
    """A checked URL, with the async driver filled in."""

    url: sa.URL
    dialect_name: str
    in_memory: bool

    def __str__(self) -> str:
        return self.url.render_as_string(hide_password=True)


def parse_database_url(raw: str | sa.URL) -> DatabaseUrl:
    """Check a SQLite or PostgreSQL URL and pick aiosqlite or psycopg for it."""
    try:
        url = sa.make_url(raw)
    except ArgumentError:
        raise DatabaseUrlError(f"{raw!r} is not a database URL; use one of: {ACCEPTED}") from None
    backend, _, driver = url.drivername.partition("+")
    shown = url.render_as_string(hide_password=True)
    if backend == "sqlite":
        if driver not in _SQLITE_DRIVERS:
            raise DatabaseUrlError(
                f"{shown}: SQLite is used through aiosqlite; drop the '+{driver}' driver "
                "or write sqlite+aiosqlite://"
            )
        database = url.database or ""
        in_memory = database in _MEMORY or url.query.get("mode") == "memory"
        if not in_memory:
            _check_sqlite_directory(shown, database)
        return DatabaseUrl(url.set(drivername="sqlite+aiosqlite"), "sqlite", in_memory=in_memory)
    if backend in {"postgresql", "postgres"}:
        if driver not in _POSTGRES_DRIVERS:
            raise DatabaseUrlError(
                f"{shown}: PostgreSQL is used through psycopg 3; drop the '+{driver}' driver "
                "or write postgresql+psycopg://"
            )
        if not url.host and "host" not in url.query:
            raise DatabaseUrlError(f"{shown}: the URL names no host; use {ACCEPTED}")
        return DatabaseUrl(url.set(drivername="postgresql+psycopg"), "postgresql", in_memory=False)
    raise DatabaseUrlError(f"{shown}: unsupported database {backend!r}; use one of: {ACCEPTED}")


def _check_sqlite_directory(shown: str, database: str) -> None:
    if database.startswith("file:"):
        return  # a URI filename; SQLite itself checks it on connect
    directory = Path(database).expanduser().absolute().parent
    if not directory.is_dir():
        raise DatabaseUrlError(
            f"{shown}: the directory {directory} for the SQLite file does not exist"
        )
