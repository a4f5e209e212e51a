"""The `scaffold` command."""

import sys


def main() -> None:
    """Run the `scaffold` command."""
    sys.stderr.write("scaffold: the commands (new, dev, worker, db, tasks) are not built yet.\n")
    raise SystemExit(2)


if __name__ == "__main__":
    main()
