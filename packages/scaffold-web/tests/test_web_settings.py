"""Settings and the secret key: required outside development, generated in development."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from scaffold.di import Container
from scaffold.web import ConfigurationError, WebApp, WebSettings
from scaffold.web._secret_key import resolve_secret_key


class TestSecretKey:
    def test_production_without_key_fails_with_instructions(self, tmp_path: Path) -> None:
        """Outside development a missing SECRET_KEY stops the app, saying how to set one."""
        with pytest.raises(ConfigurationError, match="SECRET_KEY is not set") as error:
            WebApp("app", Container(), settings=WebSettings(data_dir=tmp_path))
        assert "secrets.token_urlsafe" in str(error.value)
        assert not (tmp_path / "secret_key").exists()

    def test_short_key_is_refused_in_production(self) -> None:
        """A key shorter than 32 characters is refused outside development."""
        with pytest.raises(ConfigurationError, match="at least 32"):
            resolve_secret_key(WebSettings(secret_key="short"))  # noqa: S106 - a test value

    def test_given_key_is_used(self) -> None:
        """A long enough key is used as given."""
        key = "k" * 40
        assert resolve_secret_key(WebSettings(secret_key=key)) == key

    def test_development_generates_and_keeps_a_key(self, tmp_path: Path) -> None:
        """Development creates a key in the data folder, owner-readable only, and reuses it."""
        settings = WebSettings(environment="development", data_dir=tmp_path / "data")
        first = resolve_secret_key(settings)
        second = resolve_secret_key(settings)
        path = tmp_path / "data" / "secret_key"
        assert first == second
        assert len(first) >= 32
        assert path.read_text().strip() == first
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_development_replaces_an_unusable_key_file(self, tmp_path: Path) -> None:
        """A truncated key file is replaced by a fresh key."""
        (tmp_path / "secret_key").write_text("x")
        key = resolve_secret_key(WebSettings(environment="development", data_dir=tmp_path))
        assert len(key) >= 32


class TestFromEnv:
    def test_reads_the_environment(self, tmp_path: Path) -> None:
        """SCAFFOLD_ENV, SECRET_KEY, SCAFFOLD_DATA_DIR, ALLOWED_ORIGINS, PROXY_HOPS are read."""
        settings = WebSettings.from_env(
            {
                "SCAFFOLD_ENV": "development",
                "SECRET_KEY": "s" * 40,
                "SCAFFOLD_DATA_DIR": str(tmp_path),
                "ALLOWED_ORIGINS": "https://a.example, https://b.example",
                "PROXY_HOPS": "1",
            }
        )
        assert settings.development
        assert settings.secret_key == "s" * 40
        assert settings.data_dir == tmp_path
        assert settings.allowed_origins == ("https://a.example", "https://b.example")
        assert settings.proxy_hops == 1

    def test_defaults_to_production(self) -> None:
        """Without SCAFFOLD_ENV the settings are production's."""
        assert WebSettings.from_env({}).environment == "production"

    def test_keywords_win(self) -> None:
        """Keyword arguments override the environment."""
        settings = WebSettings.from_env({"SCAFFOLD_ENV": "development"}, environment="test")
        assert settings.environment == "test"

    @pytest.mark.parametrize(
        ("environ", "message"),
        [
            ({"SCAFFOLD_ENV": "prod"}, "environment must be one of"),
            ({"ALLOWED_ORIGINS": "example.com"}, "allowed_origins entries look like"),
            ({"ALLOWED_ORIGINS": "https://a.example/"}, "no trailing slash"),
            ({"PROXY_HOPS": "two"}, "PROXY_HOPS must be a whole number"),
        ],
    )
    def test_bad_values_are_named(self, environ: dict[str, str], message: str) -> None:
        """A bad value is refused with a message naming it."""
        with pytest.raises(ConfigurationError, match=message):
            WebSettings.from_env(environ)
