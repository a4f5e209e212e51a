"""Choosing a backend from configuration: a database URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._memory import InMemoryBackend
from ._postgres import PostgresBackend
from ._sqlite import SqliteBackend, path_from_url

if TYPE_CHECKING:
    from ._backend import TaskBackend


def backend_from_url(url: str, **options: Any) -> TaskBackend:  # noqa: ANN401 - passed to the backend
    """The backend a URL names, with backend-specific `options`.

    - `postgresql://user@host/db` (also `postgresql+psycopg://`, `postgres://`):
      `PostgresBackend` (options: schema, min_connections, max_connections).
    - `sqlite:///relative/file.db`, `sqlite:////absolute/file.db`: `SqliteBackend`.
    - `memory://`: `InMemoryBackend`, for tests.
    """
    scheme = url.partition("://")[0].split("+", 1)[0].lower()
    if scheme in {"postgresql", "postgres"}:
        return PostgresBackend(url, **options)
    if scheme == "sqlite":
        return SqliteBackend(path_from_url(url), **options)
    if scheme == "memory":
        return InMemoryBackend(**options)
    raise ValueError(
        f"no task queue backend for {url!r}: use postgresql://..., sqlite:///file.db or memory://"
    )
