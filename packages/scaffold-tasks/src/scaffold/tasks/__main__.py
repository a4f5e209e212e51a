"""`python -m scaffold.tasks worker|tasks ...`: the CLI without the `scaffold` command."""

from .cli import main

main()
