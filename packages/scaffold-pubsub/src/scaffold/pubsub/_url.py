"""Choosing a backend from a URL, as configuration gives it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scaffold.pubsub._backend import PubSubBackend
from scaffold.pubsub._memory import MemoryPubSub

_POSTGRES = {"postgres", "postgresql"}
_REDIS = {"redis", "rediss", "unix"}


def from_url(url: str, **options: Any) -> PubSubBackend:  # noqa: ANN401 - passed to the backend, which checks them
    """Return the backend that `url` names, configured with `options`.

    - `memory://`: in this process only (the embedded default; fakes in unit tests).
    - `postgresql://...` (also `postgres://` and SQLAlchemy's `postgresql+psycopg://`):
      LISTEN/NOTIFY, across processes and machines.
    - `redis://...`, `rediss://...`, `unix://...`: Redis pub/sub (`scaffold-pubsub[redis]`).

    Nothing connects before the first publish or subscription.
    """
    if not isinstance(url, str):
        raise TypeError(f"pub/sub URL must be a str, got {type(url).__name__}")
    scheme = urlsplit(url).scheme.lower()
    base = scheme.split("+", 1)[0]
    if base == "memory":
        return MemoryPubSub(**options)
    if base in _POSTGRES:
        from scaffold.pubsub._postgres import PostgresPubSub  # noqa: PLC0415 - psycopg loads only when used

        return PostgresPubSub(url, **options)
    if base in _REDIS and "+" not in scheme:
        from scaffold.pubsub._redis import RedisPubSub  # noqa: PLC0415 - redis is an optional extra

        return RedisPubSub(url, **options)
    if base == "sqlite":
        raise ValueError(
            f"no pub/sub over SQLite ({url!r}): use 'memory://' for a single process, or "
            "PostgreSQL or Redis across processes"
        )
    raise ValueError(
        f"unknown pub/sub URL scheme {scheme!r} in {_redact(url)!r}; expected memory://, "
        "postgresql://, redis:// or rediss://"
    )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
