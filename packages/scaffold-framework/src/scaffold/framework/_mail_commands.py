"""`scaffold mail preview`: scaffold-mail's preview command, under a `mail` group."""

from __future__ import annotations

import click

from scaffold.mail.cli import make_preview_command


@click.group("mail")
def mail() -> None:
    """Preview the application's mail templates."""


mail.add_command(make_preview_command())
