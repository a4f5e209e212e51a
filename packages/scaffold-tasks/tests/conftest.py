"""Fixtures of scaffold-tasks' tests: one task queue per test on each backend.

PostgreSQL tests share the session's database (`postgres_url`) and get a schema of their
own, so their tables and NOTIFY channel never meet another test's. Workers in tests use
short leases and poll intervals so that recovery paths run in well under a second.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from scaffold.tasks import (
    InMemoryBackend,
    PostgresBackend,
    SqliteBackend,
    TaskBackend,
    TaskQueue,
    TaskRegistry,
    WorkerSettings,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
    from pathlib import Path

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

# Fast settings for workers in tests; production defaults are seconds, not fractions.
FAST = {
    "lease": 1.0,
    "heartbeat_interval": 0.25,
    "poll_interval": 0.1,
    "maintenance_interval": 0.2,
    "shutdown_timeout": 5.0,
}


def fast_settings(**changes: Any) -> WorkerSettings:
    return WorkerSettings(**{**FAST, **changes})


async def eventually_holds(
    predicate: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 20
) -> None:
    """Poll until `predicate()` holds; fail naming `what` instead of hanging."""
    for _ in range(int(seconds / 0.01)):
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"still not true after {seconds} s: {what}")


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    """`await eventually(predicate, what)`: wait, boundedly, for a condition."""
    return eventually_holds


@pytest.fixture
def fast() -> Callable[..., WorkerSettings]:
    """`fast(**changes)`: worker settings with test-sized leases and intervals."""
    return fast_settings


@pytest.fixture
def pg_schema() -> str:
    """A schema name of this test's own."""
    return f"t_{secrets.token_hex(6)}"


@pytest.fixture(params=BACKENDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_backend(
    request: pytest.FixtureRequest, tmp_path: Path, pg_schema: str
) -> Callable[[str], TaskBackend]:
    """Backends of a kind on this test's storage (a second call shares the storage)."""
    memory: dict[str, InMemoryBackend] = {}

    def make(kind: str) -> TaskBackend:
        if kind == "memory":
            return memory.setdefault("backend", InMemoryBackend())
        if kind == "sqlite":
            return SqliteBackend(tmp_path / "tasks.db")
        url = str(request.getfixturevalue("postgres_url"))
        return PostgresBackend(url, schema=pg_schema, max_connections=4)

    return make


@pytest.fixture
def registry() -> TaskRegistry:
    return TaskRegistry()


@pytest.fixture
async def queue(
    backend_kind: str, make_backend: Callable[[str], TaskBackend], registry: TaskRegistry
) -> AsyncIterator[TaskQueue]:
    """A migrated queue on each backend in turn; the test registers its task types."""
    async with TaskQueue(make_backend(backend_kind), registry) as opened:
        await opened.migrate()
        yield opened


@pytest.fixture
async def pg_queue(
    postgres_url: str, pg_schema: str, registry: TaskRegistry
) -> AsyncIterator[TaskQueue]:
    """A migrated queue on PostgreSQL only."""
    backend = PostgresBackend(postgres_url, schema=pg_schema, max_connections=4)
    async with TaskQueue(backend, registry) as opened:
        await opened.migrate()
        yield opened


class PsycopgTransaction:
    """The `SqlTransaction` seam over a plain psycopg connection inside a transaction.

    It does what a unit of work does: runs SQLAlchemy `text()`-style `:name` statements
    in the caller's open transaction.
    """

    dialect_name = "postgresql"

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def execute_sql(self, statement: str, parameters: Mapping[str, object]) -> None:
        converted = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", statement)
        await self.conn.execute(converted, parameters)  # type: ignore[arg-type]


class SqliteTransaction:
    """The `SqlTransaction` seam over an aiosqlite connection inside BEGIN ... COMMIT."""

    dialect_name = "sqlite"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute_sql(self, statement: str, parameters: Mapping[str, object]) -> None:
        await self.conn.execute(statement, dict(parameters))


@pytest.fixture
def psycopg_transaction() -> type[PsycopgTransaction]:
    return PsycopgTransaction


@pytest.fixture
def sqlite_transaction() -> type[SqliteTransaction]:
    return SqliteTransaction
