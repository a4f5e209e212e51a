"""The `scaffold` command: its help, its own commands, mounted commands and plugins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scaffold.cli import ExitCode
from scaffold.framework import Mount, ScaffoldCommand, scaffold_command

EVERY_COMMAND = ("db", "dev", "mail", "new", "serve", "tasks", "template", "update", "worker")


@pytest.fixture(autouse=True)
def template_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    location = tmp_path / "template-repository"
    monkeypatch.setenv("SCAFFOLD_TEMPLATE_REPOSITORY", str(location))
    return location


def invoke(*args: str, command: click.Command | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(command or scaffold_command(), list(args))
    return result.exit_code, result.output


class TestHelp:
    def test_help_lists_every_command_on_one_line(self) -> None:
        """`scaffold --help` names each command once, with its summary on the same line."""
        code, output = invoke("--help")
        assert code == 0
        listing = output.split("Commands:\n", 1)[1].splitlines()
        names = [line.split()[0] for line in listing if line.strip()]
        assert names == sorted(EVERY_COMMAND)
        assert all(line.startswith("  ") and len(line.split()) > 1 for line in listing)

    def test_help_imports_no_mounted_package(self) -> None:
        """Listing the commands imports neither the web server, Alembic nor copier."""
        script = (
            "import sys\n"
            "from scaffold.framework import scaffold_command\n"
            "try:\n    scaffold_command().main(['--help'], prog_name='scaffold')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('quart', 'alembic', 'copier', 'sqlalchemy')"
            " if m in sys.modules))\n"
        )
        completed = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert completed.stdout.splitlines()[-1] == "[]"

    def test_the_installed_script_runs(self) -> None:
        """`python -m scaffold.framework --version` prints the umbrella's version."""
        completed = subprocess.run(
            [sys.executable, "-m", "scaffold.framework", "--version"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert completed.stdout.startswith("scaffold 0.10.")


class TestNew:
    def test_new_generates_a_project(self, tmp_path: Path) -> None:
        """`scaffold new PATH` writes the project and says what to run next."""
        code, output = invoke("new", str(tmp_path / "my-shop"), "--no-git")
        assert code == 0, output
        assert (tmp_path / "my-shop" / "src" / "my_shop" / "bootstrap.py").is_file()
        assert not (tmp_path / "my-shop" / ".git").exists()
        assert "uv sync" in output

    def test_a_bad_name_exits_1_with_the_reason(self, tmp_path: Path) -> None:
        """An invalid project name fails with exit code 1 and says what is allowed."""
        code, output = invoke("new", str(tmp_path / "My_Shop"))
        assert code == ExitCode.FAILURE
        assert "lower-case letters" in output

    def test_an_unknown_python_version_is_a_usage_error(self, tmp_path: Path) -> None:
        """`--python` accepts only the supported versions."""
        code, output = invoke("new", str(tmp_path / "shop"), "--python", "3.9")
        assert code == ExitCode.USAGE
        assert "--python" in output


class TestUpdate:
    def test_update_of_a_folder_not_generated_fails(self, tmp_path: Path) -> None:
        """`scaffold update` on a folder without answers fails with 1 and the reason."""
        code, output = invoke("update", str(tmp_path))
        assert code == ExitCode.FAILURE
        assert ".copier-answers.yml" in output

    def test_template_register_records_the_installed_template(
        self, template_repository: Path
    ) -> None:
        """`scaffold template register` tags the installed template in the repository."""
        code, output = invoke("template", "register")
        assert code == 0, output
        tags = subprocess.run(
            ["git", "tag"], cwd=template_repository, capture_output=True, text=True, check=True
        ).stdout.split()
        assert tags == ["v0.10.0"]


class TestMounts:
    def test_a_mount_that_cannot_load_is_listed_and_explains_itself(self) -> None:
        """A command whose package cannot provide it shows in help and exits 78 saying why."""
        broken = Mount("ghost", "scaffold.nowhere:command", "Haunt the project.", "scaffold-x")
        command = ScaffoldCommand([broken])
        assert "(unavailable) Haunt the project." in invoke("--help", command=command)[1]
        code, output = invoke("ghost", "--any", "args", command=command)
        assert code == ExitCode.CONFIG
        assert "scaffold-x" in output
        assert "scaffold.nowhere" in output

    def test_a_mount_that_is_not_a_command_is_refused(self) -> None:
        """A target that is not a click command is reported, not run."""
        odd = Mount("odd", "scaffold.framework:bundled_template", "Odd.", "scaffold-framework")
        code, output = invoke("odd", command=ScaffoldCommand([odd]))
        assert code == ExitCode.CONFIG
        assert "not a click command" in output

    def test_plugins_from_entry_points_are_mounted(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A distribution's `scaffold.commands` entry point becomes a `scaffold` command."""
        (tmp_path / "hello_plugin.py").write_text(
            "import click\n\n@click.command()\ndef hello():\n"
            '    """Say hello from a plugin."""\n    click.echo("hello from plugin")\n'
        )
        info = tmp_path / "hello_plugin-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[scaffold.commands]\nhello = hello_plugin:hello\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        command = scaffold_command()
        assert "Say hello from a plugin." in invoke("--help", command=command)[1]
        assert invoke("hello", command=command) == (0, "hello from plugin\n")

    def test_plugin_commands_get_the_project_container(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An injected plugin command run in a project gets services from its container."""
        (tmp_path / "pyproject.toml").write_text(
            '[tool.scaffold]\ncontainer = "shop_boot:bootstrap"\n'
        )
        (tmp_path / "shop_boot.py").write_text(
            "from scaffold.di import Container\n\n"
            "class Shop:\n    name = 'corner shop'\n\n"
            "def bootstrap():\n    c = Container()\n    c.add_singleton(Shop)\n    return c\n"
        )
        (tmp_path / "shop_plugin.py").write_text(
            "import click\nfrom scaffold.cli import command\nfrom shop_boot import Shop\n\n"
            "@command()\ndef shop(s: Shop):\n    click.echo(s.name)\n"
        )
        info = tmp_path / "shop_plugin-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shop-plugin\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[scaffold.commands]\nshop = shop_plugin:shop\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.chdir(tmp_path)
        assert invoke("shop", command=scaffold_command()) == (0, "corner shop\n")
        (tmp_path / "pyproject.toml").write_text("[tool.scaffold]\n")
        code, output = invoke("shop", command=scaffold_command())
        assert code == ExitCode.CONFIG
        assert "`container`" in output

    def test_mail_preview_is_mounted(self, tmp_path: Path) -> None:
        """`scaffold mail preview` renders a mail template through scaffold-mail."""
        (tmp_path / "welcome.txt").write_text("Welcome, {{ name }}!\n")
        code, output = invoke(
            "mail", "preview", "welcome", "--templates", str(tmp_path), "--var", "name=Ada"
        )
        assert code == 0, output
        assert "Welcome, Ada!" in output

    def test_dev_outside_a_project_exits_78(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`scaffold dev` without a target or a project says where the app should be named."""
        monkeypatch.chdir(tmp_path)
        code, output = invoke("dev")
        assert code == ExitCode.CONFIG
        assert "pyproject.toml" in output
