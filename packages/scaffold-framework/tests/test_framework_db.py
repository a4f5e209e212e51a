"""`scaffold db`: migrations through scaffold-persistence, on SQLite and PostgreSQL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from scaffold.cli import ExitCode
from scaffold.framework import scaffold_command

MIGRATION = '''
"""Create the notes table."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("notes")
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with one migration and a SQLite database-url in [tool.scaffold]."""
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [tool.scaffold]
            database-url = "sqlite:///{tmp_path / "app.db"}"
            migrations = "db/migrations"
            """
        )
    )
    folder = tmp_path / "db" / "migrations"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(
        "import sqlalchemy as sa\n"
        "from scaffold.persistence.migrations import run_migrations\n\n"
        "run_migrations(sa.MetaData())\n"
    )
    (folder / "versions" / "0001_notes.py").write_text(MIGRATION)
    (folder / "script.py.mako").write_text(
        '"""${message}"""\n\nrevision = ${repr(up_revision)}\n'
        "down_revision = ${repr(down_revision)}\n\n\n"
        "def upgrade() -> None:\n    ${upgrades if upgrades else 'pass'}\n\n\n"
        "def downgrade() -> None:\n    ${downgrades if downgrades else 'pass'}\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


def db(*args: str) -> tuple[int, str]:
    """Exit code and standard output (logging and errors go to standard error)."""
    result = CliRunner().invoke(scaffold_command(), ["db", *args])
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


class TestDbOnSqlite:
    @pytest.mark.usefixtures("project")
    def test_upgrade_current_and_downgrade(self) -> None:
        """`upgrade` applies the migration, `current` shows it, `downgrade base` reverts it."""
        assert db("current") == (0, "base (no migration applied)\n")
        assert db("upgrade") == (0, "database at 0001\n")
        assert db("current") == (0, "0001\n")
        assert db("downgrade", "base") == (0, "database at base\n")

    def test_revision_writes_a_migration(self, project: Path) -> None:
        """`revision -m --empty` writes a new migration file into the project's folder."""
        db("upgrade")
        code, output = db("revision", "-m", "add tags", "--empty")
        assert code == 0, output
        written = list((project / "db" / "migrations" / "versions").glob("*add_tags*.py"))
        assert len(written) == 1
        assert str(written[0]) in output

    @pytest.mark.usefixtures("project")
    def test_an_unknown_revision_exits_1_with_alembic_s_message(self) -> None:
        """A revision that does not exist fails with exit code 1 and Alembic's reason."""
        code, output = db("upgrade", "nope")
        assert code == ExitCode.FAILURE
        assert "nope" in output

    @pytest.mark.usefixtures("project")
    def test_the_options_win_over_the_project(self, tmp_path: Path) -> None:
        """`--database-url` names another database than the project's."""
        other = f"sqlite:///{tmp_path / 'other.db'}"
        assert db("upgrade", "--database-url", other) == (0, "database at 0001\n")
        assert db("current") == (0, "base (no migration applied)\n")
        assert db("current", "--database-url", other) == (0, "0001\n")


class TestDbErrors:
    def test_outside_a_project_it_says_what_to_give(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without a project and options, `scaffold db` exits 78 naming what is missing."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        code, output = db("upgrade")
        assert code == ExitCode.CONFIG
        assert "--database-url" in output

    def test_a_folder_without_env_py_exits_1(self, tmp_path: Path) -> None:
        """A migration folder that is not one is reported, not run."""
        url = f"sqlite:///{tmp_path / 'x.db'}"
        code, output = db("upgrade", "--database-url", url, "--directory", str(tmp_path))
        assert code == ExitCode.FAILURE
        assert "env.py" in output


@pytest.mark.usefixtures("project")
def test_upgrade_and_downgrade_on_postgresql(postgres_url: str) -> None:
    """The same commands migrate a real PostgreSQL database (DATABASE_URL wins)."""
    runner = CliRunner(env={"DATABASE_URL": postgres_url})
    upgraded = runner.invoke(scaffold_command(), ["db", "upgrade"])
    assert (upgraded.exit_code, upgraded.stdout) == (0, "database at 0001\n")
    downgraded = runner.invoke(scaffold_command(), ["db", "downgrade", "base"])
    assert (downgraded.exit_code, downgraded.stdout) == (0, "database at base\n")
