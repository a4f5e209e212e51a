"""Alembic migrations: a folder made by init(), autogenerate that sees the models, and
upgrade/downgrade on SQLite and PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from scaffold.persistence import Database, DatabaseUrlError, uuid7
from scaffold.persistence.migrations import (
    _config,
    current,
    downgrade,
    init,
    revision,
    upgrade,
)

pytestmark = pytest.mark.slow

MODELS = """
import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scaffold.persistence.model import Base, EntityMixin, TimestampMixin, VersionMixin


class Tag(EntityMixin, Base):
    __tablename__ = "persistence_migration_tag"
    note_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("persistence_migration_note.id"), init=False
    )
    label: Mapped[str] = mapped_column(sa.String(30))


class Note(EntityMixin, TimestampMixin, VersionMixin, Base):
    __tablename__ = "persistence_migration_note"
    title: Mapped[str] = mapped_column(sa.String(100), index=True)
    due: Mapped[datetime.datetime | None]
    tags: Mapped[list[Tag]] = relationship(default_factory=list, cascade="all, delete-orphan")
"""


@pytest.fixture(scope="module")
def models_module(tmp_path_factory):
    """An importable module defining two models on scaffold's Base (imported once)."""
    folder = tmp_path_factory.mktemp("models")
    (folder / "persistence_migration_models.py").write_text(MODELS)
    sys.path.insert(0, str(folder))
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migration_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    return request.getfixturevalue("pg_schema")("scaffold_persistence_migrations")


def upgrade_body(script: Path) -> str:
    text = script.read_text()
    return text.split("def upgrade() -> None:")[1].split("def downgrade() -> None:")[0]


async def table_names(url):
    async with Database(url) as database, database.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names()))


class TestInit:
    def test_init_writes_env_template_and_versions(self, tmp_path):
        """init() writes env.py (importing the models), the script template and versions/."""
        folder = init(tmp_path / "migrations", models=["app.models", "app.more"])
        env = (folder / "env.py").read_text()
        assert "import app.models" in env
        assert "import app.more" in env
        assert "run_migrations(Base.metadata)" in env
        assert (folder / "script.py.mako").is_file()
        assert (folder / "versions").is_dir()

    def test_init_refuses_to_overwrite(self, tmp_path):
        """init() on a folder that has an env.py raises FileExistsError."""
        init(tmp_path / "migrations", models="app.models")
        with pytest.raises(FileExistsError, match="does not overwrite"):
            init(tmp_path / "migrations", models="app.models")

    def test_init_needs_models(self, tmp_path):
        """Without a models module autogenerate would see nothing, so init() refuses."""
        with pytest.raises(ValueError, match="define the models"):
            init(tmp_path / "migrations", models=[])

    async def test_commands_refuse_a_folder_without_env(self, tmp_path):
        """A command pointed at a folder that is not a migration folder says so."""
        with pytest.raises(FileNotFoundError, match="not a migration folder"):
            await upgrade(f"sqlite:///{tmp_path / 'x.db'}", directory=tmp_path)


class TestMigrating:
    @pytest.mark.usefixtures("models_module")
    async def test_autogenerate_upgrade_and_downgrade(self, migration_url, tmp_path):
        """A generated migration creates the models' tables (and the outbox), the database
        then matches the models, and downgrading removes the tables again."""
        folder = init(tmp_path / "migrations", models="persistence_migration_models")
        assert await current(migration_url, directory=folder) == ()

        script = await revision(migration_url, directory=folder, message="Create notes")
        body = upgrade_body(script)
        assert "op.create_table('persistence_migration_note'" in body
        assert "op.create_table('persistence_migration_tag'" in body
        assert "op.create_table('scaffold_outbox'" in body
        assert "sa.DateTime(timezone=True)" in body
        assert "scaffold" not in script.read_text().split("def upgrade")[0]

        await upgrade(migration_url, directory=folder)
        head = script.name.split("_")[0]
        assert await current(migration_url, directory=folder) == (head,)
        assert {"persistence_migration_note", "persistence_migration_tag", "scaffold_outbox"} <= (
            await table_names(migration_url)
        )

        import persistence_migration_models as models  # noqa: PLC0415 - made by the fixture

        async with Database(migration_url) as database, database.session() as session:
            session.add(models.Note(id=uuid7(), title="hello", due=None))
            await session.commit()
            assert await session.scalar(sa.select(models.Note.title)) == "hello"

        again = await revision(migration_url, directory=folder, message="Nothing changed")
        assert "op." not in upgrade_body(again), upgrade_body(again)
        again.unlink()

        await downgrade(migration_url, directory=folder, revision="base")
        assert await current(migration_url, directory=folder) == ()
        remaining = await table_names(migration_url)
        assert "persistence_migration_note" not in remaining
        assert "scaffold_outbox" not in remaining

    @pytest.mark.usefixtures("models_module")
    async def test_an_empty_revision_can_be_written_by_hand(self, migration_url, tmp_path):
        """revision(autogenerate=False) writes an empty migration to fill in."""
        folder = init(tmp_path / "migrations", models="persistence_migration_models")
        script = await revision(
            migration_url, directory=folder, message="Data fix", autogenerate=False
        )
        assert "Data fix" in script.read_text()
        assert "pass" in upgrade_body(script)


class TestAlembicCommand:
    def test_the_plain_alembic_command_uses_database_url(self, models_module, tmp_path):
        """`alembic upgrade head` works on the folder, with the URL from DATABASE_URL."""
        folder = init(
            tmp_path / "migrations",
            models="persistence_migration_models",
            alembic_ini=tmp_path / "alembic.ini",
        )
        url = f"sqlite:///{tmp_path / 'cli.db'}"
        env = os.environ | {"DATABASE_URL": url, "PYTHONPATH": str(models_module)}
        for args in (["revision", "--autogenerate", "-m", "first"], ["upgrade", "head"]):
            result = subprocess.run(
                [sys.executable, "-m", "alembic", *args],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stderr
        assert len(list((folder / "versions").glob("*.py"))) == 1
        engine = sa.create_engine(url)
        try:
            assert "persistence_migration_note" in sa.inspect(engine).get_table_names()
        finally:
            engine.dispose()

    @pytest.mark.usefixtures("models_module")
    def test_offline_mode_prints_sql(self, tmp_path, monkeypatch, capsys):
        """`upgrade --sql` renders the migration as SQL without connecting."""
        folder = init(tmp_path / "migrations", models="persistence_migration_models")
        (folder / "versions" / "0001_first.py").write_text(
            'revision = "0001"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n'
            "from alembic import op\nimport sqlalchemy as sa\n"
            "def upgrade():\n    op.create_table('offline_t', sa.Column('id', sa.Integer()))\n"
            "def downgrade():\n    op.drop_table('offline_t')\n"
        )
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
        command.upgrade(_config(folder), "head", sql=True)
        assert "CREATE TABLE offline_t" in capsys.readouterr().out
        assert not (tmp_path / "never.db").exists()

    @pytest.mark.usefixtures("models_module")
    def test_env_without_any_url_says_where_to_put_one(self, tmp_path, monkeypatch):
        """Run by Alembic with no URL anywhere, env.py asks for DATABASE_URL."""
        folder = init(tmp_path / "migrations", models="persistence_migration_models")
        monkeypatch.delenv("DATABASE_URL", raising=False)
        with pytest.raises(DatabaseUrlError, match="DATABASE_URL"):
            command.upgrade(_config(folder), "head")
