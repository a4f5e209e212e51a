"""The schema version checks both SQL backends make, with their messages."""

from __future__ import annotations

from typing import Final

from ._errors import SchemaVersionError

MIGRATE_COMMAND: Final = "scaffold tasks migrate"


def too_new(current: int, supported: int, place: str) -> SchemaVersionError:
    """The error for a schema newer than this release understands."""
    return SchemaVersionError(
        f"the task queue schema {place} is at version {current}, newer than the "
        f"version {supported} this scaffold-tasks understands: upgrade scaffold-tasks"
    )


def check_version(current: int, supported: int, *, place: str, store: str) -> None:
    """Raise `SchemaVersionError` unless the schema is at exactly `supported`.

    `place` names the schema after "the task queue schema" (too new); `store` names where
    the tables live (too old or missing).
    """
    if current > supported:
        raise too_new(current, supported, place)
    if current < supported:
        state = "has no task queue tables" if current == 0 else f"is at version {current}"
        raise SchemaVersionError(
            f"{store} {state}; this scaffold-tasks needs version {supported}. "
            f"Run `{MIGRATE_COMMAND}` (or `await queue.migrate()`)"
        )
