"""The `preview` command (click): render a mail template without sending it.

scaffold-cli mounts it under `mail`; it also runs alone:

    python -m scaffold.mail preview welcome --templates app/templates/mail --var name=Ada
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._errors import MailError
from ._preview import format_preview, preview_mail
from ._templates import MailTemplates

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["make_preview_command", "preview_command"]


def make_preview_command(
    templates: Callable[[], MailTemplates] | None = None, *, name: str = "preview"
) -> click.Command:
    """A `preview` command; with `templates`, it renders those instead of taking `--templates`.

    An application passes a factory that returns its own `MailTemplates` (from its
    container, say), so the command knows where the templates are and which globals
    they use.
    """

    @click.command(name=name)
    @click.argument("mail_name", metavar="NAME", required=False)
    @click.option(
        "--templates",
        "folders",
        multiple=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        envvar="SCAFFOLD_MAIL_TEMPLATES",
        help="Folder of the mail templates (repeatable; env SCAFFOLD_MAIL_TEMPLATES).",
        hidden=templates is not None,
    )
    @click.option("--context", "context_json", help="Template variables as a JSON object.")
    @click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="KEY=VALUE",
        help="One template variable, a string (repeatable; overrides --context).",
    )
    @click.option("--text/--no-text", "show_text", default=True, help="Show the text version.")
    @click.option("--html/--no-html", "show_html", default=True, help="Show the HTML version.")
    @click.option(
        "--html-file",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Also write the HTML version to this file, to open it in a browser.",
    )
    @click.option(
        "--list", "list_names", is_flag=True, help="List the mails that can be previewed."
    )
    def preview(
        *,
        mail_name: str | None,
        folders: tuple[Path, ...],
        context_json: str | None,
        variables: tuple[str, ...],
        show_text: bool,
        show_html: bool,
        html_file: Path | None,
        list_names: bool,
    ) -> None:
        """Render the mail template NAME (its text, HTML and subject) without sending it."""
        if templates is not None:
            renderer = templates()
        elif folders:
            renderer = MailTemplates(folders)
        else:
            raise click.UsageError("give the templates folder with --templates DIR")
        if list_names:
            for found in renderer.names():
                click.echo(found)
            return
        if mail_name is None:
            raise click.UsageError("give the NAME of the mail to preview (or --list)")
        context = _context(context_json, variables)
        try:
            rendered = asyncio.run(preview_mail(renderer, mail_name, context))
        except MailError as error:
            raise click.ClickException(str(error)) from error
        click.echo(format_preview(rendered, text=show_text, html=show_html), nl=False)
        if html_file is not None:
            if rendered.html is None:
                raise click.ClickException(f"mail {mail_name!r} has no HTML version to write")
            html_file.write_text(rendered.html, encoding="utf-8")
            click.echo(f"HTML version written to {html_file}", err=True)

    return preview


def _context(context_json: str | None, variables: tuple[str, ...]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if context_json is not None:
        try:
            loaded = json.loads(context_json)
        except json.JSONDecodeError as error:
            raise click.BadParameter(f"not JSON: {error}", param_hint="--context") from error
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object ({...})", param_hint="--context")
        context.update(loaded)
    for variable in variables:
        key, equals, value = variable.partition("=")
        if not equals or not key.isidentifier():
            raise click.BadParameter(f"{variable!r} is not KEY=VALUE", param_hint="--var")
        context[key] = value
    return context


preview_command = make_preview_command()
