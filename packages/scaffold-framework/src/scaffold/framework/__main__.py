"""`python -m scaffold.framework`: the `scaffold` command."""

from ._cli import scaffold_command


def main() -> None:
    """Run the `scaffold` command."""
    scaffold_command().main(prog_name="scaffold")


if __name__ == "__main__":
    main()
