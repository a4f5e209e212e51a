"""Test infrastructure shared by every package: real PostgreSQL and Redis servers.

`postgres_url` gives each test session a database of its own, created on first use and
dropped at the end. `redis_url` gives the Redis server and `redis_prefix` a key prefix of
the session's own. Tests that use them are marked `postgres` / `redis` automatically, so
`pytest -m "not postgres"` runs the rest. When a server cannot be reached the tests are
skipped with the reason on a developer's machine, and fail under `CI=true`.
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

if TYPE_CHECKING:
    from collections.abc import Iterator

pytest_plugins = ["pytester"]

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_FIXTURES = frozenset({"postgres_server_url", "postgres_url"})
REDIS_FIXTURES = frozenset({"redis_url", "redis_prefix"})


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unreachable(what: str, url: str, error: object) -> None:
    """Fail under CI (a missing server is a broken set-up there), skip elsewhere."""
    message = f"{what} is not reachable at {url}: {error}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: tests that need it fail instead of skipping)")
    pytest.skip(message)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if names & REDIS_FIXTURES:
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of the PostgreSQL server's maintenance database (TEST_DATABASE_URL)."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as error:
        unreachable("PostgreSQL", url, error)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """URL of a database created for this test session; dropped when the session ends."""
    name = f"scaffold_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(postgres_server_url, name)
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis server (TEST_REDIS_URL)."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 5) as s:
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
    except OSError as error:
        unreachable("Redis", url, error)
    if not reply.startswith(b"+PONG"):
        unreachable("Redis", url, f"unexpected reply to PING: {reply!r}")
    return url


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> str:  # noqa: ARG001 - needs a reachable server
    """A key and channel prefix of this test session's own, so sessions never collide."""
    return f"scaffold-test:{os.getpid()}:{secrets.token_hex(4)}:"
