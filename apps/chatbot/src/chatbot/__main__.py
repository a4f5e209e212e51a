"""`chatbot`: run the chatbot on its embedded default."""

import sys


def main() -> None:
    """Start the chatbot (web, worker and scheduler in one process)."""
    sys.stderr.write(
        "chatbot: the reference app is not built yet; the packages it needs come first.\n"
    )
    raise SystemExit(2)


if __name__ == "__main__":
    main()
