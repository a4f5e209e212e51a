"""`chatbot`: the chatbot's command line.

- `chatbot` (or `chatbot run`): the embedded default, web + worker + scheduler in one
  process on SQLite, in-process pub/sub and console mail. No server to install.
- `chatbot migrate`: apply the database migrations and the task queue's schema.
- `chatbot web [--processes N]`: the web processes (production, on PostgreSQL).
- `chatbot worker`: a task worker with the cron scheduler (production, on PostgreSQL).
- `chatbot tasks ...`: scaffold-tasks' admin commands on the chatbot's queue (list, show,
  retry and purge tasks, pause queues, ...), on whichever database DATABASE_URL names.
"""

import asyncio
import logging
import os
import sys
from pathlib import Path

import click
from sqlalchemy import make_url

from chatbot.bootstrap import bootstrap, create_worker, new_task_queue
from chatbot.settings import Settings
from scaffold.cli import CliApp, CommandError
from scaffold.persistence import migrations
from scaffold.tasks import TaskQueue as DurableTaskQueue
from scaffold.tasks.cli import tasks_group
from scaffold.web import serve

MIGRATIONS = Path(__file__).parent / "infrastructure" / "persistence" / "migrations"
APP_FACTORY = "chatbot.bootstrap:web_app"

logger = logging.getLogger("chatbot")

app = CliApp("chatbot", help="The Scaffold tutorial's chatbot.")


def production_settings() -> Settings:
    """Settings for the production commands: strict unless ENVIRONMENT says otherwise
    (in the environment or in .env); the server's processes inherit the choice."""
    settings = Settings()
    if "environment" not in settings.model_fields_set:
        os.environ["ENVIRONMENT"] = "production"
        settings = Settings()
    return settings


async def apply_migrations(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    await migrations.upgrade(url, directory=MIGRATIONS)
    container = bootstrap(settings)
    try:
        queue = await container.aresolve(DurableTaskQueue)
        version = await queue.migrate()
    finally:
        await container.aclose()
    shown = make_url(url).render_as_string(hide_password=True)
    logger.info("database at %s is migrated (task queue schema %s)", shown, version)


@app.command()
async def migrate() -> None:
    """Apply the database migrations and the task queue's schema."""
    await apply_migrations(Settings())


@app.command()
def run() -> None:
    """Run everything in one process on the embedded default (SQLite)."""
    settings = Settings()
    if not settings.embedded:
        raise CommandError(
            "`chatbot run` is the embedded mode; with DATABASE_URL on PostgreSQL, run "
            "`chatbot migrate`, then `chatbot web` and `chatbot worker`",
            exit_code=2,
        )
    asyncio.run(apply_migrations(settings))
    click.echo(f"Chatbot running at http://{settings.host}:{settings.port}/ (Ctrl+C stops it)")
    serve(APP_FACTORY, host=settings.host, port=settings.port, workers=1, factory=True)


@app.command()
@click.option("--processes", type=click.IntRange(min=1), help="Web processes (WEB_PROCESSES).")
def web(processes: int | None) -> None:
    """Serve the web app (production; the worker runs apart, see `chatbot worker`)."""
    settings = production_settings()
    count = processes or settings.web_processes
    if settings.embedded and count > 1:
        raise CommandError(
            "SQLite runs the worker and pub/sub inside one web process; use PostgreSQL "
            "(DATABASE_URL=postgresql://...) for several web processes",
            exit_code=2,
        )
    click.echo(f"Chatbot web on http://{settings.host}:{settings.port}/ ({count} processes)")
    serve(APP_FACTORY, host=settings.host, port=settings.port, workers=count, factory=True)


@app.command()
async def worker() -> None:
    """Run a task worker and the cron scheduler until SIGTERM or Ctrl+C."""
    settings = production_settings()
    if settings.embedded:
        raise CommandError(
            "on SQLite the worker runs inside `chatbot run`; set DATABASE_URL to PostgreSQL "
            "to run workers apart",
            exit_code=2,
        )
    container = bootstrap(settings)
    try:
        await container.init()
        queue = await container.aresolve(DurableTaskQueue)
        await queue.check_schema()
        await create_worker(container, settings, queue).run()
    finally:
        await container.aclose()


def task_queue() -> DurableTaskQueue:
    """The chatbot's task queue for the admin commands (they close it when done)."""
    return new_task_queue(Settings())


app.add_command(tasks_group(task_queue))


def main() -> None:
    """Entry point of the `chatbot` script; without a command it runs the embedded mode."""
    app(sys.argv[1:] or ["run"])


if __name__ == "__main__":
    main()
