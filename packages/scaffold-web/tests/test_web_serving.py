"""Serving: loading the app, the production command on Granian, the dev server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from scaffold.web import load_app

APP_MODULE = """
from scaffold.di import Container
from scaffold.web import BaseController, WebApp, controller, route


class Greeter:
    def greet(self) -> str:
        return "GREETING"


@controller(name="home")
class HomeController(BaseController):
    def __init__(self, greeter: Greeter) -> None:
        self.greeter = greeter

    @route("/")
    async def index(self) -> str:
        return self.greeter.greet()


def create_app() -> WebApp:
    container = Container()
    container.add_singleton(Greeter)
    return WebApp(__name__, container, controllers=[HomeController], assets_folder=None)


app = create_app()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(port: int, deadline: float = 30) -> str:
    """GET / until the server answers (or the deadline passes)."""
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scaffold_web_served_app.py").write_text(textwrap.dedent(APP_MODULE))
    return tmp_path


def run_server(project: Path, *args: str, unset: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    environ = {**os.environ, "SECRET_KEY": "k" * 40, "PYTHONPATH": str(project)}
    for name in ("SCAFFOLD_ENV", *unset):
        environ.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "scaffold.web", *args],
        cwd=project,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> str:
    """Stop the server; its output, for assertions and failure messages."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output.decode(errors="replace")


class TestLoadApp:
    def test_target_must_name_module_and_attribute(self) -> None:
        """A target without a colon is refused with the expected form."""
        with pytest.raises(ValueError, match=r"package\.module:app"):
            load_app("just_a_module")

    def test_missing_attribute_is_named(self, project: Path, monkeypatch) -> None:
        """A module without the attribute says which attribute is missing."""
        monkeypatch.syspath_prepend(str(project))
        monkeypatch.setenv("SECRET_KEY", "k" * 40)
        with pytest.raises(ValueError, match="has no attribute 'nope'"):
            load_app("scaffold_web_served_app:nope")

    def test_factory_is_called(self, project: Path, monkeypatch) -> None:
        """With factory=True the target is called to build the app."""
        monkeypatch.syspath_prepend(str(project))
        monkeypatch.setenv("SECRET_KEY", "k" * 40)
        app = load_app("scaffold_web_served_app:create_app", factory=True)
        assert app.name == "scaffold_web_served_app"


@pytest.mark.slow
class TestServers:
    def test_production_command_serves_on_granian(self, project: Path) -> None:
        """`python -m scaffold.web serve` serves the app (with its lifespan) on Granian."""
        port = free_port()
        process = run_server(
            project, "serve", "scaffold_web_served_app:app", "--port", str(port), "--workers", "1"
        )
        try:
            page = fetch(port)
        finally:
            output = stop(process)
        assert page == "GREETING", output
        assert "granian" in output.lower()

    def test_dev_server_reloads_on_change(self, project: Path) -> None:
        """`python -m scaffold.web dev` serves in development and restarts when code changes."""
        port = free_port()
        process = run_server(
            project,
            "dev",
            "scaffold_web_served_app:app",
            "--port",
            str(port),
            "--watch",
            str(project),
        )
        pages = []
        try:
            pages.append(fetch(port))
            module = project / "scaffold_web_served_app.py"
            module.write_text(module.read_text().replace('"GREETING"', '"CHANGED"'))
            end = time.monotonic() + 30
            while pages[-1] != "CHANGED" and time.monotonic() < end:
                time.sleep(0.2)
                pages.append(fetch(port))
        finally:
            output = stop(process)
        assert pages[0] == "GREETING", output
        assert pages[-1] == "CHANGED", output

    def test_dev_server_in_process_without_reload(self, project: Path) -> None:
        """`dev --no-reload` serves in the one process, in development mode."""
        port = free_port()
        process = run_server(
            project,
            "dev",
            "scaffold_web_served_app:app",
            "--port",
            str(port),
            "--no-reload",
            unset=("SECRET_KEY",),
        )
        try:
            page = fetch(port)
        finally:
            output = stop(process)
        assert page == "GREETING", output
        assert (project / "data" / "secret_key").exists()  # development made one
