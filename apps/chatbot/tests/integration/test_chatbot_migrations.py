"""The committed migrations create exactly the schema the models describe."""

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chatbot.__main__ import MIGRATIONS
from chatbot.infrastructure.persistence.model import Message
from scaffold.persistence import Database, outbox_table
from scaffold.persistence.migrations import upgrade
from scaffold.persistence.model import Base


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    """After `upgrade head`, autogenerate finds nothing left to do (no drift).

    Other test modules put tables of their own on the shared `Base.metadata`, so the
    comparison takes the app's tables only: its model's and the outbox it inherits.
    """
    app_tables = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in (Base.metadata.tables[Message.__tablename__], outbox_table):
        table.to_metadata(app_tables)
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    await upgrade(url, directory=MIGRATIONS)
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), app_tables)
            )
    finally:
        await database.dispose()
    assert differences == []
