"""Alembic migrations on SQLite and PostgreSQL, run through the async engine.

`init()` writes a migration folder whose `env.py` hands over to `run_migrations()`. The
async functions (`upgrade`, `downgrade`, `revision`, `current`) are what the `scaffold`
command calls; the plain `alembic` command works on the same folder too (it reads the
URL from `sqlalchemy.url` in alembic.ini or from the `DATABASE_URL` variable).

    await revision("sqlite:///app.db", directory="migrations", message="Add message table")
    await upgrade("sqlite:///app.db", directory="migrations")
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from ._engine import Database
from ._errors import DatabaseUrlError
from ._url import parse_database_url
from .model import UtcDateTime

if TYPE_CHECKING:
    import sqlalchemy as sa
    from alembic.autogenerate.api import AutogenContext

__all__ = ["current", "downgrade", "init", "revision", "run_migrations", "upgrade"]

_ENV_PY = '''"""Alembic environment of this application, run through scaffold.persistence."""

{imports}
from scaffold.persistence.migrations import run_migrations
from scaffold.persistence.model import Base

run_migrations(Base.metadata)
'''

_SCRIPT_TEMPLATE = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Created: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

_ALEMBIC_INI = """# Settings for the plain `alembic` command. The database URL comes from the
# DATABASE_URL environment variable unless sqlalchemy.url is set here.
[alembic]
script_location = {script_location}
path_separator = os
sqlalchemy.url =
"""


def init(
    directory: str | Path,
    *,
    models: str | Sequence[str],
    alembic_ini: str | Path | None = None,
) -> Path:
    """Create a migration folder whose env.py imports `models` (module names) for autogenerate.

    With `alembic_ini`, also write an alembic.ini there for the plain `alembic` command.
    Refuses to overwrite an existing env.py.
    """
    folder = Path(directory)
    env_py = folder / "env.py"
    if env_py.exists():
        raise FileExistsError(f"{env_py} exists already; init() does not overwrite it")
    modules = [models] if isinstance(models, str) else list(models)
    if not modules:
        raise ValueError("init() needs the module(s) that define the models, for autogenerate")
    imports = "\n".join(
        f"import {module}  # noqa: F401 - registers its tables on Base.metadata"
        for module in modules
    )
    (folder / "versions").mkdir(parents=True, exist_ok=True)
    env_py.write_text(_ENV_PY.format(imports=imports))
    (folder / "script.py.mako").write_text(_SCRIPT_TEMPLATE)
    if alembic_ini is not None:
        ini = Path(alembic_ini)
        location = os.path.relpath(folder.absolute(), ini.absolute().parent)
        ini.write_text(_ALEMBIC_INI.format(script_location=location))
    return folder


async def upgrade(url: str, *, directory: str | Path, revision: str = "head") -> None:
    """Apply the migrations in `directory` up to `revision` (default: all of them)."""
    await _run(url, directory, lambda config: command.upgrade(config, revision))


async def downgrade(url: str, *, directory: str | Path, revision: str) -> None:
    """Revert the migrations in `directory` down to `revision` (`"base"`: all of them)."""
    await _run(url, directory, lambda config: command.downgrade(config, revision))


async def revision(
    url: str,
    *,
    directory: str | Path,
    message: str,
    autogenerate: bool = True,
) -> Path:
    """Write a new migration; with `autogenerate`, from the difference between the
    models and the database at `url`. Returns the new file's path."""
    created: list[Path] = []

    def write(config: Config) -> None:
        result = command.revision(config, message=message, autogenerate=autogenerate)
        scripts = result if isinstance(result, list) else [result]
        created.extend(Path(script.path) for script in scripts if script is not None)

    await _run(url, directory, write)
    if not created:
        raise RuntimeError(f"Alembic created no migration in {directory}")
    return created[0]


async def current(url: str, *, directory: str | Path) -> tuple[str, ...]:
    """The revisions the database at `url` is at (empty before the first upgrade)."""
    _config(directory)  # the same check of the folder as the other commands
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            heads = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
    finally:
        await database.dispose()
    return tuple(heads)


def run_migrations(
    target_metadata: sa.MetaData | Sequence[sa.MetaData], *, url: str | None = None
) -> None:
    """The body of env.py: run Alembic's migrations for `target_metadata`.

    Uses the connection a function of this module handed over, or else connects to
    `url`, alembic.ini's `sqlalchemy.url` or the `DATABASE_URL` variable.
    """
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection, target_metadata)
        return
    database_url = url or config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not database_url:
        raise DatabaseUrlError(
            "no database URL for the migrations: set DATABASE_URL or sqlalchemy.url"
        )
    if context.is_offline_mode():
        context.configure(
            url=parse_database_url(database_url).url,
            target_metadata=target_metadata,
            literal_binds=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_migrate_online(database_url, target_metadata))


async def _migrate_online(url: str, target_metadata: sa.MetaData | Sequence[sa.MetaData]) -> None:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(lambda sync: _migrate(sync, target_metadata))
            await connection.commit()
    finally:
        await database.dispose()


def _migrate(
    connection: sa.Connection,
    target_metadata: sa.MetaData | Sequence[sa.MetaData],
) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode writes migrations that way.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations should not import the application's model types: the column is a plain
    # timezone-aware timestamp in the database.
    del autogen_context
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _config(directory: str | Path) -> Config:
    folder = Path(directory)
    if not (folder / "env.py").is_file():
        raise FileNotFoundError(
            f"{folder} is not a migration folder (no env.py); create it with "
            "scaffold.persistence.migrations.init()"
        )
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("path_separator", "os")
    return config


async def _run(url: str, directory: str | Path, action: Callable[[Config], None]) -> None:
    config = _config(directory)
    database = Database(url)

    def run_on(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        action(config)

    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(run_on)
            await connection.commit()
    finally:
        await database.dispose()
