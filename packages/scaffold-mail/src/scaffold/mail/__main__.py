"""`python -m scaffold.mail preview ...`: the preview command without scaffold-cli."""

from __future__ import annotations

import click

from .cli import preview_command


@click.group()
def main() -> None:
    """Tools of scaffold-mail."""


main.add_command(preview_command)

if __name__ == "__main__":
    main()
