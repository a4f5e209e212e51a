"""A project fresh from `scaffold new` passes its own checks and tests, with no edits.

The Scaffold packages are built into wheels from this checkout and installed into a new
virtual environment together with the project, so nothing named scaffold-* can come from
the package index (scaffold-framework 0.9.4 is published there). Third-party packages are
pinned to the versions of the workspace lock, which uv's cache already holds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
PACKAGES = sorted(path.name for path in (REPOSITORY_ROOT / "packages").iterdir() if path.is_dir())
# As long as a name can be: the generated imports must still fit the line length.
PROJECT_NAME = "a-thirty-two-character-long-name"


@dataclass(frozen=True)
class Generated:
    project: Path
    env: dict[str, str]

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=self.project, env=self.env, capture_output=True, text=True, check=False
        )


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv is needed to build the packages and the test environment")
    return found


def checked(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, (
        f"{' '.join(command)}:\n{completed.stdout}\n{completed.stderr}"
    )
    return completed.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("generated")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    env["SCAFFOLD_TEMPLATE_REPOSITORY"] = str(root / "template-repository")
    wheels = root / "wheels"
    for package in PACKAGES:
        checked(
            [uv(), "build", "--quiet", "--package", package, "--wheel", "--out-dir", str(wheels)],
            REPOSITORY_ROOT,
            env,
        )
    lock = checked(
        [uv(), "export", "--frozen", "--all-packages", "--all-groups", "--no-hashes"],
        REPOSITORY_ROOT,
        env,
    )
    constraints = root / "constraints.txt"
    constraints.write_text("\n".join(line for line in lock.splitlines() if "==" in line) + "\n")
    venv = root / "venv"
    checked([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], root, env)
    python = str(venv / "bin" / "python")
    install = [uv(), "pip", "install", "--quiet", "--python", python, "-c", str(constraints)]
    checked([*install, *map(str, sorted(wheels.glob("*.whl")))], root, env)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    # The installed `scaffold` command generates the project, as a user would run it.
    checked(["scaffold", "new", PROJECT_NAME], root, env)
    project = root / PROJECT_NAME
    checked(
        [*install, "-e", str(project), "--group", f"{project / 'pyproject.toml'}:dev"], root, env
    )
    return Generated(project, env)


class TestGeneratedProject:
    @pytest.mark.parametrize(
        "command",
        [
            ["ruff", "check", "."],
            ["ruff", "format", "--check", "."],
            ["mypy"],
            ["lint-imports"],
        ],
        ids=["ruff-check", "ruff-format", "mypy", "lint-imports"],
    )
    def test_its_checks_pass(self, generated: Generated, command: list[str]) -> None:
        """Each check the project's CI runs passes right after generation."""
        completed = generated.run(*command)
        assert completed.returncode == 0, completed.stdout + completed.stderr

    def test_its_tests_pass(self, generated: Generated) -> None:
        """The project's own tests (unit, CLI and web) pass, none skipped."""
        completed = generated.run("pytest", "-q", "-p", "no:cacheprovider")
        assert completed.returncode == 0, completed.stdout + completed.stderr
        last = completed.stdout.strip().splitlines()[-1]
        assert " passed" in last
        assert "skipped" not in last

    def test_scaffold_db_tasks_and_worker_run_the_project(self, generated: Generated) -> None:
        """`scaffold db upgrade` and `scaffold tasks migrate` prepare the database, the
        project's command writes a note, and `scaffold worker` runs the task it queued."""
        migrated = generated.run("scaffold", "db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        assert "database at 0001" in migrated.stdout
        queue = generated.run("scaffold", "tasks", "migrate")
        assert queue.returncode == 0, queue.stderr
        written = generated.run(PROJECT_NAME, "write", "three little words")
        assert written.returncode == 0, written.stderr
        assert "three little words" in generated.run(PROJECT_NAME, "recent").stdout
        assert "queued   1" in generated.run("scaffold", "tasks", "counts").stdout

        log = ""
        with subprocess.Popen(
            ["scaffold", "worker"],
            cwd=generated.project,
            env=generated.env,
            stderr=subprocess.PIPE,
            text=True,
        ) as worker:
            try:
                assert worker.stderr is not None
                deadline = time.monotonic() + 60
                while "has 3 words" not in log and time.monotonic() < deadline:
                    line = worker.stderr.readline()
                    if not line:
                        break
                    log += line
                worker.send_signal(signal.SIGINT)
                assert worker.wait(timeout=30) == 0, log
            finally:
                worker.kill()
        assert "has 3 words" in log
        assert "done" in generated.run("scaffold", "tasks", "counts").stdout

    def test_scaffold_help_lists_every_command(self, generated: Generated) -> None:
        """Inside the project, `scaffold --help` lists every command, one line each."""
        completed = generated.run("scaffold", "--help")
        assert completed.returncode == 0, completed.stderr
        for name in ("new", "update", "template", "dev", "serve", "db", "mail", "worker", "tasks"):
            assert f"\n  {name} " in completed.stdout
        assert "(unavailable)" not in completed.stdout
