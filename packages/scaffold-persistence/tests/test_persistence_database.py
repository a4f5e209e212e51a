"""Database: one URL gives a configured engine; bad URLs and unreachable servers give
clear errors."""

import asyncio
import threading
from pathlib import Path

import persistence_shop as shop
import pytest
import sqlalchemy as sa

from scaffold.persistence import Database, DatabaseUnavailableError, DatabaseUrlError
from scaffold.persistence._url import parse_database_url


class TestUrls:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("sqlite:///app.db", "sqlite+aiosqlite:///app.db"),
            ("sqlite+aiosqlite:////tmp/app.db", "sqlite+aiosqlite:////tmp/app.db"),
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://u@db.example/app", "postgresql+psycopg://u@db.example/app"),
            ("postgres://u@db.example:6543/app", "postgresql+psycopg://u@db.example:6543/app"),
            ("postgresql+psycopg://u@localhost/app", "postgresql+psycopg://u@localhost/app"),
        ],
    )
    def test_accepted_urls_get_the_async_driver(self, given, expected):
        """SQLite runs on aiosqlite and PostgreSQL on psycopg, whichever form is given."""
        assert str(parse_database_url(given)) == expected

    @pytest.mark.parametrize(
        ("given", "message"),
        [
            ("mysql://u@localhost/app", "unsupported database 'mysql'"),
            ("postgresql+asyncpg://u@localhost/app", "psycopg 3"),
            ("sqlite+pysqlite:///app.db", "aiosqlite"),
            ("not a url", "is not a database URL"),
            ("postgresql:///app", "names no host"),
            ("sqlite:////no/such/directory/app.db", "does not exist"),
        ],
    )
    def test_bad_urls_are_refused_with_the_reason(self, given, message):
        """A URL that cannot work is refused at once, saying why and what would."""
        with pytest.raises(DatabaseUrlError, match=message):
            Database(given)

    def test_passwords_are_not_shown(self):
        """The URL shown in messages and reprs hides the password."""
        database = Database("postgresql://user:s3cret@localhost/app")
        assert "s3cret" not in repr(database)
        assert "s3cret" not in str(database.url)


class TestSqlite:
    async def test_connections_use_wal_foreign_keys_and_a_busy_timeout(self, tmp_path):
        """Every SQLite connection has WAL, enforced foreign keys and the busy timeout."""
        database = Database(f"sqlite:///{tmp_path / 'a.db'}", busy_timeout=2.5)
        async with database, database.engine.connect() as connection:

            async def pragma(name):
                return (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()

            assert await pragma("journal_mode") == "wal"
            assert await pragma("foreign_keys") == 1
            assert await pragma("busy_timeout") == 2500

    async def test_foreign_keys_are_enforced(self, tmp_path):
        """A child row pointing to a missing parent is refused by SQLite."""
        async with Database(f"sqlite:///{tmp_path / 'a.db'}") as database:
            await database.create_all(shop.OrderRow.metadata)
            async with database.engine.connect() as connection:
                with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
                    await connection.execute(
                        sa.text(
                            "INSERT INTO persistence_order_line "
                            "(id, order_id, position, sku, quantity, unit_price) "
                            "VALUES ('a', 'missing', 0, 'x', 1, 1)"
                        )
                    )

    async def test_in_memory_database_is_shared_by_its_sessions(self):
        """All sessions of an in-memory database see the same data."""
        async with Database("sqlite://") as database:
            await database.create_all(shop.OrderRow.metadata)
            async with database.engine.begin() as connection:
                await connection.execute(
                    sa.text("INSERT INTO persistence_audit (message) VALUES ('x')")
                )
            async with database.session() as session:
                result = await session.execute(sa.text("SELECT message FROM persistence_audit"))
                assert result.scalars().all() == ["x"]

    async def test_concurrent_writers_wait_for_each_other(self, tmp_path):
        """Writers in concurrent tasks queue for SQLite's write lock instead of failing."""
        async with Database(f"sqlite:///{tmp_path / 'a.db'}") as database:
            await database.create_all(shop.OrderRow.metadata)

            async def write(n):
                async with database.session() as session:
                    await session.execute(
                        sa.text("INSERT INTO persistence_audit (message) VALUES (:m)"), {"m": n}
                    )
                    await asyncio.sleep(0.01)
                    await session.commit()

            await asyncio.gather(*(write(str(n)) for n in range(20)))
            async with database.session() as session:
                count = await session.scalar(sa.text("SELECT count(*) FROM persistence_audit"))
            assert count == 20

    async def test_a_file_that_cannot_be_opened_is_reported(self, tmp_path):
        """An SQLite path that is a directory gives DatabaseUnavailableError."""
        folder = tmp_path / "folder.db"
        folder.mkdir()
        before = set(threading.enumerate())
        async with Database(f"sqlite:///{folder}") as database:
            with pytest.raises(DatabaseUnavailableError, match=r"folder\.db"):
                await database.check()
        # aiosqlite stops the failed connection's thread without waiting for it; the thread
        # must finish while this test's event loop still exists.
        for thread in set(threading.enumerate()) - before:
            await asyncio.to_thread(thread.join, 10)


class TestPostgres:
    async def test_an_unreachable_server_is_reported_with_its_address(self):
        """A server that refuses connections gives DatabaseUnavailableError naming it."""
        async with Database("postgresql://postgres@127.0.0.1:1/app", connect_timeout=2) as db:
            with pytest.raises(DatabaseUnavailableError, match=r"127\.0\.0\.1:1/app"):
                await db.check()

    async def test_a_missing_database_is_reported(self, pg_url):
        """Connecting to a database that does not exist gives DatabaseUnavailableError."""
        url = sa.make_url(pg_url).set(database="scaffold_no_such_database")
        async with Database(url) as database:
            with pytest.raises(DatabaseUnavailableError, match="does not exist"):
                await database.check()

    async def test_a_dropped_connection_is_replaced(self, pg_url):
        """After the server ends a pooled connection, the next session gets a fresh one."""
        async with Database(pg_url, pool_size=1, max_overflow=0) as database:
            async with database.session() as session:
                pid = await session.scalar(sa.text("SELECT pg_backend_pid()"))
            async with Database(pg_url) as admin, admin.engine.begin() as connection:
                await connection.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            async with database.session() as session:
                assert await session.scalar(sa.text("SELECT pg_backend_pid()")) != pid


def test_nothing_connects_on_construction(tmp_path: Path):
    """Building a Database opens no connection and creates no file."""
    Database(f"sqlite:///{tmp_path / 'lazy.db'}")
    Database("postgresql://postgres@127.0.0.1:1/app")
    assert not (tmp_path / "lazy.db").exists()
