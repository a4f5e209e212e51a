"""The chatbot's configuration, read from the environment (and a `.env` file) once at start."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has an embedded default: a fresh checkout runs with no server at all.

    Pointing `DATABASE_URL` at PostgreSQL switches the task queue and pub/sub to it as well
    (unless `PUBSUB_URL` says otherwise), so web and worker processes can run apart.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    pubsub_url: str = ""
    mail_url: str = "console://"
    mail_sender: str = "Chatbot <chatbot@localhost>"
    secret_key: SecretStr | None = None
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    proxy_hops: int = 0
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    host: str = "127.0.0.1"
    port: int = 8000
    web_processes: int = 1
    worker_concurrency: int = 10
    prune_messages_after_days: int = 30
    prune_schedule: str = "0 3 * * *"

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """ALLOWED_ORIGINS=https://a.example,https://b.example (as scaffold-web reads it)."""
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @field_validator("port")
    @classmethod
    def _port_in_range(cls, value: int) -> int:
        if not 0 <= value <= 65535:  # noqa: PLR2004 - the TCP port range
            raise ValueError(f"PORT must be between 0 and 65535, got {value}")
        return value

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'chatbot.sqlite3'}"

    @property
    def embedded(self) -> bool:
        """True on SQLite: web, worker and scheduler must share one process."""
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_pubsub_url(self) -> str:
        """PUBSUB_URL, else the PostgreSQL database itself, else in-process."""
        if self.pubsub_url:
            return self.pubsub_url
        return "memory://" if self.embedded else self.resolved_database_url
