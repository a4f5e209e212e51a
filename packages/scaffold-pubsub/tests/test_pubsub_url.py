"""Choosing a backend from a URL, and the errors for URLs that name none."""

import pytest

from scaffold.pubsub import MemoryPubSub, PostgresPubSub, RedisPubSub, from_url
from scaffold.pubsub._postgres import conninfo


class TestSchemes:
    def test_memory(self):
        """`memory://` is the in-process backend, a new one each time."""
        first, second = from_url("memory://"), from_url("memory://")
        assert isinstance(first, MemoryPubSub)
        assert first is not second

    @pytest.mark.parametrize(
        "url",
        [
            "postgresql://user@db.example/app",
            "postgres://user@db.example/app",
            "postgresql+psycopg://user@db.example/app",
            "postgresql+asyncpg://user@db.example/app",
        ],
    )
    def test_postgres(self, url):
        """PostgreSQL URLs, including SQLAlchemy's driver form, pick LISTEN/NOTIFY."""
        assert isinstance(from_url(url), PostgresPubSub)

    @pytest.mark.parametrize(
        "url", ["redis://localhost:6379/0", "rediss://localhost/1", "unix:///tmp/redis.sock"]
    )
    def test_redis(self, url):
        """Redis URLs pick Redis pub/sub."""
        assert isinstance(from_url(url), RedisPubSub)

    def test_options_reach_the_backend(self):
        """Keyword options configure the chosen backend."""
        pub_sub = from_url("memory://", max_buffered=7)
        assert pub_sub.subscribe("c").capacity == 7

    def test_unknown_option_is_an_error(self):
        """A misspelt option is not ignored."""
        with pytest.raises(TypeError, match="max_bufered"):
            from_url("memory://", max_bufered=7)


class TestErrors:
    def test_unknown_scheme_is_named_and_password_hidden(self):
        """An unknown scheme is named in the error, and a password in the URL is not."""
        with pytest.raises(ValueError, match="unknown pub/sub URL scheme 'amqp'") as raised:
            from_url("amqp://user:s3cret@host/")
        assert "s3cret" not in str(raised.value)
        assert "user:***@host" in str(raised.value)

    def test_sqlite_explains_the_choice(self):
        """A SQLite URL gets pointed at memory:// or a server backend."""
        with pytest.raises(ValueError, match="use 'memory://' for a single process"):
            from_url("sqlite+aiosqlite:///app.db")

    def test_not_a_string(self):
        """A URL must be text."""
        with pytest.raises(TypeError, match="must be a str"):
            from_url(None)  # type: ignore[arg-type]

    def test_malformed_postgres_url(self):
        """A PostgreSQL URL libpq cannot parse fails when the backend is made."""
        with pytest.raises(ValueError, match="not a valid PostgreSQL URL"):
            from_url("postgresql://%zz@host/db")

    def test_postgres_limit_cannot_be_raised(self):
        """NOTIFY's limit is the server's; a larger setting is refused clearly."""
        with pytest.raises(ValueError, match="NOTIFY accepts at most 7999 bytes"):
            from_url("postgresql://localhost/db", max_message_bytes=10_000)

    def test_redis_limit_can_be_raised(self):
        """Redis carries larger messages when configured to."""
        assert from_url("redis://localhost", max_message_bytes=10_000).max_message_bytes == 10_000


class TestPostgresConnectionSettings:
    def test_defaults_fill_in_what_the_url_leaves_out(self):
        """Keepalives and a connect timeout apply unless the URL sets them."""
        info = conninfo("postgresql://u@h/db?keepalives_idle=99", "app:listen")
        assert "keepalives_idle=99" in info
        assert "keepalives_interval=5" in info
        assert "connect_timeout=10" in info
        assert "application_name=app:listen" in info
        assert "client_encoding=UTF8" in info
