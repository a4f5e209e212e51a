"""Fixtures of scaffold-persistence's tests: SQLite and PostgreSQL databases, and the shop.

The PostgreSQL tests work in a schema of their own inside the session's database (the
root `postgres_url` fixture), so the tables of other packages' tests never meet ours.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from scaffold.persistence import (
    Base,
    Database,
    InMemoryDatabase,
    InMemoryUnitOfWorkFactory,
    Outbox,
    UnitOfWorkFactory,
    outbox_table,
)

TESTS = Path(__file__).parent
SCHEMA = "scaffold_persistence"


def _load_shop() -> Any:
    # Test modules are not importable by name in pytest's importlib mode; registering the
    # shop under a fixed name lets every test module (and pickling) find the same one.
    name = "persistence_shop"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "persistence_shop.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


shop = _load_shop()


def shop_tables() -> list[sa.Table]:
    """The tables the tests write: the shop's and the outbox."""
    return [*shop.SHOP_TABLES, outbox_table]


def schema_url(postgres_url: str, schema: str) -> str:
    """A psycopg URL for `postgres_url` whose connections work in `schema` (created here)."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    url = sa.make_url(postgres_url).set(
        drivername="postgresql+psycopg", query={"options": f"-csearch_path={schema}"}
    )
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url(postgres_url: str) -> str:
    """The session database as a psycopg URL, in the tests' schema, with the tables created."""
    url = schema_url(postgres_url, SCHEMA)
    engine = sa.create_engine(url)
    try:
        Base.metadata.create_all(engine, tables=shop_tables())
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_schema(postgres_url: str) -> Callable[[str], str]:
    """Makes a fresh schema of the session database and returns its psycopg URL."""

    def make(name: str) -> str:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
            )
        return schema_url(postgres_url, name)

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a new SQLite file, or the PostgreSQL test schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


async def prepare(database: Database) -> None:
    """Create the test tables (SQLite) or empty them (PostgreSQL)."""
    tables = shop_tables()
    async with database.engine.begin() as connection:
        if database.dialect_name == "sqlite":
            await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=tables))
        else:
            names = ", ".join(table.name for table in tables)
            await connection.execute(sa.text(f"TRUNCATE {names}"))


@pytest.fixture
async def database(sql_url: str) -> AsyncIterator[Database]:
    """A `Database` on SQLite or PostgreSQL, with empty test tables."""
    db = Database(sql_url)
    await prepare(db)
    yield db
    await db.dispose()


@dataclasses.dataclass
class Delivered:
    """Records what a dispatcher received."""

    events: list[object] = dataclasses.field(default_factory=list)

    async def __call__(self, event: object) -> None:
        self.events.append(event)


@dataclasses.dataclass
class Backend:
    """One implementation of the shop's units of work, for the contract tests."""

    name: str
    factory: Any
    delivered: Delivered
    database: Database | None

    def create(self) -> Any:
        return self.factory.create()


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """The shop on the in-memory, SQLite or PostgreSQL units of work, events recorded."""
    delivered = Delivered()
    if request.param == "memory":
        factory = InMemoryUnitOfWorkFactory(
            InMemoryDatabase(), shop.InMemoryShopUnitOfWork, dispatcher=delivered
        )
        yield Backend("memory", factory, delivered, None)
        return
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else None
    db = Database(url or request.getfixturevalue("pg_url"))
    await prepare(db)
    factory = UnitOfWorkFactory(
        db, shop.SqlShopUnitOfWork, dispatcher=delivered, outbox=Outbox(shop.EVENT_CODEC)
    )
    yield Backend(request.param, factory, delivered, db)
    await db.dispose()
