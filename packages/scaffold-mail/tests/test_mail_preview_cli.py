"""scaffold.mail._preview and scaffold.mail.cli: previewing templates without sending."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scaffold.mail import MailTemplates, format_preview, preview_mail
from scaffold.mail.cli import make_preview_command, preview_command

TEMPLATES = Path(__file__).parent / "templates"


class TestPreviewFunctions:
    async def test_preview_shows_subject_text_and_html(self):
        """format_preview shows the subject, the text and the HTML version."""
        templates = MailTemplates(TEMPLATES, globals={"site_name": "Chatbot"})
        rendered = await preview_mail(templates, "welcome", {"name": "Ada"})
        output = format_preview(rendered)
        assert output.startswith("Mail: welcome\nSubject: Welcome to Chatbot, Ada!\n")
        assert "--- text/plain ---\nHello Ada, welcome aboard." in output
        assert "--- text/html ---\n<!doctype html>" in output

    async def test_preview_can_leave_versions_out(self):
        """text=False or html=False leaves that version out; a missing subject is noted."""
        rendered = await preview_mail(MailTemplates(TEMPLATES), "code", {"code": "1"})
        output = format_preview(rendered, html=False)
        assert "Subject: (none" in output
        assert "text/html" not in output
        assert "text/plain" not in format_preview(rendered, text=False)
        assert "(no HTML version)" in format_preview(rendered)


class TestPreviewCommand:
    def test_renders_a_mail_with_variables(self):
        """The command renders NAME with --context JSON and --var values (which win)."""
        result = CliRunner().invoke(
            preview_command,
            [
                "welcome",
                "--templates",
                str(TEMPLATES),
                "--context",
                json.dumps({"site_name": "Chatbot", "name": "Bob"}),
                "--var",
                "name=Ada",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "Subject: Welcome to Chatbot, Ada!" in result.output
        assert "<p>Hello Ada, welcome aboard.</p>" in result.output

    def test_writes_the_html_to_a_file(self, tmp_path):
        """--html-file writes the HTML version for a browser; --no-html hides it on screen."""
        target = tmp_path / "welcome.html"
        result = CliRunner().invoke(
            preview_command,
            [
                "welcome",
                "--templates",
                str(TEMPLATES),
                "--var",
                "name=Ada",
                "--var",
                "site_name=Chatbot",
                "--no-html",
                "--html-file",
                str(target),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "text/html" not in result.stdout
        assert "<h1>Chatbot</h1>" in target.read_text(encoding="utf-8")

    def test_lists_the_mails(self):
        """--list prints the names of the mails."""
        result = CliRunner().invoke(preview_command, ["--list", "--templates", str(TEMPLATES)])
        assert result.exit_code == 0
        assert result.output.split() == ["code", "text/welcome", "welcome"]

    def test_reads_the_folder_from_the_environment(self):
        """SCAFFOLD_MAIL_TEMPLATES stands in for --templates."""
        result = CliRunner().invoke(
            preview_command,
            ["code", "--var", "code=7"],
            env={"SCAFFOLD_MAIL_TEMPLATES": str(TEMPLATES)},
        )
        assert result.exit_code == 0, result.output
        assert "Your code is 7." in result.output

    @pytest.mark.parametrize(
        ("arguments", "code", "fragment"),
        [
            (["welcome"], 2, "give the templates folder"),
            (["--templates", str(TEMPLATES)], 2, "give the NAME"),
            (["welcome", "--templates", str(TEMPLATES), "--context", "{"], 2, "not JSON"),
            (["welcome", "--templates", str(TEMPLATES), "--context", "[]"], 2, "JSON object"),
            (["welcome", "--templates", str(TEMPLATES), "--var", "oops"], 2, "not KEY=VALUE"),
            (["welcome", "--templates", str(TEMPLATES)], 1, "is undefined"),
            (["nope", "--templates", str(TEMPLATES)], 1, "nope.txt"),
            (
                ["code", "--templates", str(TEMPLATES), "--var", "code=1", "--html-file", "x.html"],
                1,
                "no HTML version",
            ),
        ],
    )
    def test_errors_are_clear_with_usable_exit_codes(self, arguments, code, fragment):
        """Usage errors exit 2 and template errors exit 1, each saying what is wrong."""
        result = CliRunner().invoke(preview_command, arguments, env={"SCAFFOLD_MAIL_TEMPLATES": ""})
        assert result.exit_code == code, result.output
        assert fragment in result.output

    def test_an_application_can_supply_its_templates(self):
        """make_preview_command(templates=...) renders the application's own templates."""
        command = make_preview_command(
            lambda: MailTemplates(TEMPLATES, globals={"site_name": "Chatbot"}), name="mail-preview"
        )
        assert command.name == "mail-preview"
        result = CliRunner().invoke(command, ["welcome", "--var", "name=Ada"])
        assert result.exit_code == 0, result.output
        assert "Subject: Welcome to Chatbot, Ada!" in result.output

    def test_runs_as_a_module(self):
        """`python -m scaffold.mail preview` works without scaffold-cli."""
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "scaffold.mail",
                "preview",
                "code",
                "--templates",
                str(TEMPLATES),
                "--var",
                "code=5",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert completed.returncode == 0, completed.stderr
        assert "Your code is 5." in completed.stdout
