"""The key that signs sessions: given outside development, generated and kept in development."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

from ._settings import ConfigurationError

if TYPE_CHECKING:
    from ._settings import WebSettings

MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
_HOW_TO = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def resolve_secret_key(settings: WebSettings) -> str:
    """The secret key to use, or a `ConfigurationError` saying how to set one."""
    if settings.secret_key is not None:
        if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH and not settings.development:
            raise ConfigurationError(
                f"SECRET_KEY is {len(settings.secret_key)} characters long; use at least "
                f"{MIN_SECRET_KEY_LENGTH} random characters, for example from: {_HOW_TO}"
            )
        return settings.secret_key
    if settings.development:
        return _development_key(settings)
    raise ConfigurationError(
        f"SECRET_KEY is not set. Outside development the web app needs a secret key to sign "
        f"sessions: set the SECRET_KEY environment variable (or WebSettings(secret_key=...)) "
        f"to a random value of at least {MIN_SECRET_KEY_LENGTH} characters, for example "
        f"from: {_HOW_TO}. For local work set SCAFFOLD_ENV=development instead."
    )


def _development_key(settings: WebSettings) -> str:
    """Read the key kept in the data folder, creating it (readable by the owner only)."""
    path = settings.data_dir / SECRET_KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    if len(key) >= MIN_SECRET_KEY_LENGTH:
        return key
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two dev processes starting at once must not hand out different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = path.read_text(encoding="utf-8").strip()
        if len(existing) >= MIN_SECRET_KEY_LENGTH:
            return existing
        path.unlink()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(key + "\n")
    return key
