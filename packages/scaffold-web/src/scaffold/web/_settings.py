"""The settings of a web app: plain values, read from the environment or given in code."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ._security_headers import SecurityHeaders

if TYPE_CHECKING:
    from collections.abc import Mapping

type Environment = Literal["development", "production", "test"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "production", "test")


class ConfigurationError(Exception):
    """A setting is missing or has a value the web app cannot use."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebSettings:
    """How a `WebApp` behaves.

    Parameters:
        environment: "production" (the default: everything strict), "development" (a
            generated secret key kept in `data_dir`, debug pages) or "test".
        secret_key: signs the session cookie; required outside development.
        data_dir: where development keeps its generated secret key.
        allowed_origins: origins (``https://example.com``) besides the app's own host that
            may open websockets.
        security_headers: the headers added to every response.
        session_cookie_secure: ``None`` marks the cookie Secure when the request came over
            HTTPS; ``True``/``False`` force it.
        session_cookie_name: the name of the session cookie.
        session_user_key: the session key that holds the signed-in user's id.
        csrf: check a CSRF token on every unsafe request (POST, PUT, PATCH, DELETE).
        max_content_length: the largest request body accepted, in bytes.
        health_path: where the health check answers; ``None`` turns it off.
        proxy_hops: how many reverse proxies in front of the app to trust for the
            client's scheme and address (X-Forwarded-Proto / -For); 0 trusts none.
    """

    environment: Environment = "production"
    secret_key: str | None = None
    data_dir: Path = Path("data")
    allowed_origins: tuple[str, ...] = ()
    security_headers: SecurityHeaders = dataclasses.field(default_factory=SecurityHeaders)
    session_cookie_secure: bool | None = None
    session_cookie_name: str = "session"
    session_user_key: str = "user_id"
    csrf: bool = True
    max_content_length: int = 16 * 1024 * 1024
    health_path: str | None = "/health"
    proxy_hops: int = 0

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"environment must be one of {', '.join(ENVIRONMENTS)}, not {self.environment!r}"
            )
        if self.proxy_hops < 0:
            raise ConfigurationError(f"proxy_hops cannot be negative, got {self.proxy_hops}")
        for origin in self.allowed_origins:
            if "://" not in origin or origin.endswith("/"):
                raise ConfigurationError(
                    f"allowed_origins entries look like 'https://example.com' "
                    f"(scheme and host, no trailing slash), not {origin!r}"
                )

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> WebSettings:
        """Read SCAFFOLD_ENV, SECRET_KEY, SCAFFOLD_DATA_DIR, ALLOWED_ORIGINS, PROXY_HOPS.

        ALLOWED_ORIGINS is a comma-separated list. Keyword arguments win over the
        environment.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("SCAFFOLD_ENV"):
            values["environment"] = env["SCAFFOLD_ENV"]
        if env.get("SECRET_KEY"):
            values["secret_key"] = env["SECRET_KEY"]
        if env.get("SCAFFOLD_DATA_DIR"):
            values["data_dir"] = Path(env["SCAFFOLD_DATA_DIR"])
        if env.get("ALLOWED_ORIGINS"):
            values["allowed_origins"] = tuple(
                origin.strip() for origin in env["ALLOWED_ORIGINS"].split(",") if origin.strip()
            )
        if env.get("PROXY_HOPS"):
            try:
                values["proxy_hops"] = int(env["PROXY_HOPS"])
            except ValueError:
                raise ConfigurationError(
                    f"PROXY_HOPS must be a whole number, got {env['PROXY_HOPS']!r}"
                ) from None
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
