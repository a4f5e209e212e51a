"""The shared PostgreSQL and Redis fixtures of conftest.py behave as CONTRIBUTING.md says."""

import psycopg
import pytest
from workspace import ROOT

INNER_TESTS = """
import psycopg

def test_database_is_fresh(postgres_url, tmp_path_factory):
    with psycopg.connect(postgres_url) as conn:
        name = conn.execute("select current_database()").fetchone()[0]
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        ).fetchone()[0]
    assert name.startswith("scaffold_test_")
    assert tables == 0
    (tmp_path_factory.getbasetemp().parent / "dbname").write_text(name)

def test_needs_nothing():
    pass
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A nested pytest session that uses the workspace's conftest.py."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_inner=INNER_TESTS)
    return pytester


def existing_databases(server_url: str) -> set[str]:
    with psycopg.connect(server_url) as conn:
        return {row[0] for row in conn.execute("select datname from pg_database")}


def test_session_database_is_created_and_dropped(
    inner: pytest.Pytester, postgres_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session gets a uniquely named, empty database, and it is gone after the session."""
    monkeypatch.setenv("TEST_DATABASE_URL", postgres_server_url)
    result = inner.runpytest_subprocess("-p", "no:cacheprovider", "--basetemp", inner.path / "t")
    result.assert_outcomes(passed=2)
    name = (inner.path / "dbname").read_text()
    assert name.startswith("scaffold_test_")
    assert name not in existing_databases(postgres_server_url)


def test_postgres_tests_are_marked(inner: pytest.Pytester) -> None:
    """`-m "not postgres"` deselects every test that uses the database fixture."""
    result = inner.runpytest_subprocess("-m", "not postgres")
    result.assert_outcomes(passed=1, deselected=1)


def test_unreachable_server_skips_on_a_developer_machine(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without CI the database tests are skipped, and the reason names the server."""
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/postgres")
    monkeypatch.delenv("CI", raising=False)
    result = inner.runpytest_subprocess("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*PostgreSQL is not reachable at postgresql://*127.0.0.1:1*"])


def test_unreachable_server_fails_under_ci(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under CI=true a missing database is an error, never a quiet skip."""
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/postgres")
    monkeypatch.setenv("CI", "true")
    result = inner.runpytest_subprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*CI=true: tests that need it fail instead of skipping*"])


def test_redis_fixture_reaches_the_server(redis_url: str, redis_prefix: str) -> None:
    """The Redis fixture answers PING and hands out a session-unique key prefix."""
    import redis  # noqa: PLC0415 - only this test needs the client

    client = redis.Redis.from_url(redis_url)
    try:
        key = f"{redis_prefix}probe"
        client.set(key, b"1", ex=10)
        assert client.get(key) == b"1"
        client.delete(key)
    finally:
        client.close()
