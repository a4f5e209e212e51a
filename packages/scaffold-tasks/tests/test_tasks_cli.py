"""The command line: `worker` and the `tasks` admin group, as a user runs them."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scaffold.tasks import TaskQueue, TaskRegistry, TaskState
from scaffold.tasks.cli import main, tasks_group, worker_command

APP = """
import dataclasses
import os

from scaffold.tasks import Task, TaskQueue, TaskRegistry

@dataclasses.dataclass(frozen=True)
class Echo(Task, name="cli.echo"):
    text: str

class EchoHandler:
    async def handle(self, task: Echo) -> None:
        if task.text == "boom":
            raise RuntimeError("boom")
        with open(os.environ["ECHO_LOG"], "a") as log:
            log.write(task.text + "\\n")

registry = TaskRegistry()
registry.register(Echo, EchoHandler, max_attempts=1)

def make_queue() -> TaskQueue:
    return TaskQueue.from_url(os.environ["ECHO_DB"], registry)

queue = make_queue()
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An application module on sys.path with a SQLite queue; returns its name."""
    name = f"cli_app_{secrets.token_hex(4)}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(APP))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ECHO_DB", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("ECHO_LOG", str(tmp_path / "echo.log"))
    return name


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


async def enqueue(app: str, *texts: str) -> list[str]:
    module = __import__(app)
    queue: TaskQueue = module.make_queue()
    async with queue:
        ids = await queue.enqueue_many([module.Echo(t) for t in texts])
    return [str(i) for i in ids]


class TestAdmin:
    def test_check_names_the_migrate_command_then_migrate_fixes_it(self, app: str):
        """Before migrating, `check` fails naming the command; `migrate` creates the schema."""
        code, output = run("tasks", "--app", f"{app}:queue", "check")
        assert code == 1
        assert "Run `scaffold tasks migrate`" in output
        assert run("tasks", "--app", f"{app}:queue", "migrate") == (
            0,
            "task queue schema at version 1\n",
        )
        assert run("tasks", "--app", f"{app}:make_queue", "check")[0] == 0

    def test_list_show_counts(self, app: str):
        """Tasks can be listed (text or JSON), shown one by one, and counted."""
        run("tasks", "--app", f"{app}:queue", "migrate")
        ids = asyncio.run(enqueue(app, "one", "two"))
        code, output = run("tasks", "--app", f"{app}:queue", "list")
        assert code == 0
        assert ids[0] in output
        assert "cli.echo" in output
        assert "2 task(s)" in output
        code, output = run("tasks", "--app", f"{app}:queue", "list", "--json")
        rows = [json.loads(line) for line in output.splitlines()]
        assert [r["payload"]["text"] for r in rows] == ["one", "two"]
        code, output = run("tasks", "--app", f"{app}:queue", "show", ids[1])
        assert json.loads(output)["state"] == "queued"
        code, output = run("tasks", "--app", f"{app}:queue", "counts")
        assert output.split() == ["default", "queued", "2"]
        code, output = run("tasks", "--app", f"{app}:queue", "show", "not-an-id")
        assert code == 2
        assert "'not-an-id' is not a task id" in output

    def test_pause_resume_retry_purge_prune(self, app: str, tmp_path: Path):
        """The repair commands act on the stored tasks and say what they did."""
        run("tasks", "--app", f"{app}:queue", "migrate")
        asyncio.run(enqueue(app, "boom", "fine"))
        assert run("tasks", "--app", f"{app}:queue", "pause", "default")[1] == (
            "queue default paused\n"
        )
        assert "paused: default" in run("tasks", "--app", f"{app}:queue", "counts")[1]
        assert run("tasks", "--app", f"{app}:queue", "resume", "default")[0] == 0
        module = __import__(app)

        async def work() -> None:
            from scaffold.tasks import Worker  # noqa: PLC0415 - the app module is imported late

            queue = module.make_queue()
            async with queue:
                await Worker(queue).run_until_idle()

        asyncio.run(work())
        assert (tmp_path / "echo.log").read_text() == "fine\n"
        code, output = run("tasks", "--app", f"{app}:queue", "list", "--state", "dead")
        assert "RuntimeError: boom" in output
        code, output = run("tasks", "--app", f"{app}:queue", "retry")
        assert code == 2
        assert "give task ids or --all" in output
        assert run("tasks", "--app", f"{app}:queue", "retry", "--all")[1] == (
            "1 dead task(s) queued again\n"
        )
        asyncio.run(work())
        assert run("tasks", "--app", f"{app}:queue", "purge", "--all")[1] == (
            "1 dead task(s) deleted\n"
        )
        assert run("tasks", "--app", f"{app}:queue", "prune", "--older-than", "0")[1] == (
            "1 done task(s) deleted\n"
        )
        code, output = run("tasks", "--app", f"{app}:queue", "prune", "--older-than", "soon")
        assert code == 2
        assert "not a duration like 30s" in output

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("nocolon", "is not of the form module:attribute"),
            ("no_such_module_xyz:queue", "cannot import 'no_such_module_xyz'"),
            ("{app}:missing", "has no attribute 'missing'"),
            ("{app}:registry", "is a TaskRegistry, not a Worker, a TaskQueue or a callable"),
        ],
    )
    def test_bad_app_is_explained(self, app: str, spec: str, message: str):
        """A wrong --app says what is wrong with it."""
        code, output = run("tasks", "--app", spec.format(app=app), "counts")
        assert code == 2
        assert message in output

    def test_missing_app_is_a_usage_error(self):
        """Without --app (or SCAFFOLD_TASKS_APP) the command says how to name the app."""
        code, output = run("tasks", "counts")
        assert code == 2
        assert "name the application with --app" in output

    def test_host_provided_loader(self, tmp_path: Path):
        """A host (the `scaffold` command) builds the commands with its own loader."""
        registry = TaskRegistry()
        url = f"sqlite:///{tmp_path / 'host.db'}"
        group = tasks_group(lambda: TaskQueue.from_url(url, registry))
        result = CliRunner().invoke(group, ["migrate"])
        assert result.output == "task queue schema at version 1\n"
        assert "--app" not in CliRunner().invoke(group, ["--help"]).output
        assert "--app" not in CliRunner().invoke(worker_command(lambda: None), ["--help"]).output  # type: ignore[arg-type,return-value]


@pytest.mark.slow
def test_worker_command_runs_until_sigterm(app: str, tmp_path: Path):
    """`python -m scaffold.tasks worker --app ...` runs tasks and stops gracefully on SIGTERM."""
    run("tasks", "--app", f"{app}:queue", "migrate")
    asyncio.run(enqueue(app, "from-cli"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    command = [
        sys.executable, "-m", "scaffold.tasks", "worker", "--app", f"{app}:make_queue",
        "-q", "default", "--concurrency", "2", "--lease", "5s", "--log-level", "warning",
    ]  # fmt: skip
    log = tmp_path / "echo.log"
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + 30
        while not (log.exists() and log.read_text() == "from-cli\n"):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the worker did not run the task"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    _, output = run("tasks", "--app", f"{app}:queue", "list", "--state", "done", "--json")
    assert [json.loads(line)["state"] for line in output.splitlines()] == [str(TaskState.DONE)]
