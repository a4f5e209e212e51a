"""The committed migrations create exactly the schema the models describe."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import chatbot.infrastructure.persistence.model  # noqa: F401 - registers the tables
from chatbot.__main__ import MIGRATIONS
from scaffold.persistence import Database
from scaffold.persistence.migrations import upgrade
from scaffold.persistence.model import Base


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    """After `upgrade head`, autogenerate finds nothing left to do (no drift)."""
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    await upgrade(url, directory=MIGRATIONS)
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await database.dispose()
    assert differences == []
