"""`scaffold db ...`: scaffold-persistence's Alembic migrations, for the project's database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from alembic.util import CommandError as AlembicError

from scaffold.cli import CommandError, ExitCode, command, group
from scaffold.persistence import PersistenceError
from scaffold.persistence.migrations import current, downgrade, revision, upgrade

from ._project_config import ProjectConfigError, find_project

if TYPE_CHECKING:
    from collections.abc import Awaitable


def _target(url: str | None, directory: Path | None) -> tuple[str, Path]:
    """The database URL and migration folder: the options, else the project's settings."""
    if url is None or directory is None:
        try:
            project = find_project()
        except ProjectConfigError as error:
            raise CommandError(
                f"{error}; or give both --database-url and --directory",
                exit_code=ExitCode.CONFIG,
            ) from error
        url = url or project.get("database-url")
        directory = directory or project.path("migrations", "migrations")
    if not url:
        raise CommandError(
            "no database URL: set DATABASE_URL, pass --database-url, or add database-url to "
            "[tool.scaffold] in pyproject.toml",
            exit_code=ExitCode.CONFIG,
        )
    return url, directory


async def _migrating[T](work: Awaitable[T]) -> T:
    """Run `work`, turning what the migrations report into a message without a traceback."""
    try:
        return await work
    except (PersistenceError, AlembicError, FileNotFoundError) as error:
        raise CommandError(str(error)) from error


_URL = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="The database; default: env DATABASE_URL, else database-url of [tool.scaffold].",
)
_DIRECTORY = click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="The migration folder; default: migrations of [tool.scaffold], else ./migrations.",
)


@group("db", short_help="Apply and create database migrations (Alembic).")
def db() -> None:
    """Database migrations: Alembic, run by scaffold-persistence on SQLite or PostgreSQL."""


@command("upgrade")
@click.argument("target_revision", metavar="REVISION", default="head")
@_URL
@_DIRECTORY
async def upgrade_command(
    *, target_revision: str, database_url: str | None, directory: Path | None
) -> None:
    """Apply the migrations up to REVISION (default: head, all of them)."""
    url, folder = _target(database_url, directory)
    await _migrating(upgrade(url, directory=folder, revision=target_revision))
    heads = await _migrating(current(url, directory=folder))
    click.echo(f"database at {', '.join(heads) or 'base'}")


@command("downgrade")
@click.argument("target_revision", metavar="REVISION")
@_URL
@_DIRECTORY
async def downgrade_command(
    *, target_revision: str, database_url: str | None, directory: Path | None
) -> None:
    """Revert the migrations down to REVISION (`base` reverts them all)."""
    url, folder = _target(database_url, directory)
    await _migrating(downgrade(url, directory=folder, revision=target_revision))
    heads = await _migrating(current(url, directory=folder))
    click.echo(f"database at {', '.join(heads) or 'base'}")


@command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option(
    "--autogenerate/--empty",
    default=True,
    show_default=True,
    help="Compare the models with the database, or write an empty migration.",
)
@_URL
@_DIRECTORY
async def revision_command(
    *, message: str, autogenerate: bool, database_url: str | None, directory: Path | None
) -> None:
    """Write a new migration, from the difference between the models and the database."""
    url, folder = _target(database_url, directory)
    path = await _migrating(
        revision(url, directory=folder, message=message, autogenerate=autogenerate)
    )
    click.echo(f"wrote {path}")


@command("current")
@_URL
@_DIRECTORY
async def current_command(*, database_url: str | None, directory: Path | None) -> None:
    """Show the revision the database is at."""
    url, folder = _target(database_url, directory)
    heads = await _migrating(current(url, directory=folder))
    click.echo(", ".join(heads) or "base (no migration applied)")


for _command in (upgrade_command, downgrade_command, revision_command, current_command):
    db.add_command(_command)
