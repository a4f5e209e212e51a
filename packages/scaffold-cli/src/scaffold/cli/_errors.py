"""Exit codes that scripts can rely on, and the error a command raises to use one."""

from __future__ import annotations

import enum

import click


class ExitCode(enum.IntEnum):
    """The exit status of every Scaffold command.

    The numbers follow the shell conventions (`sysexits.h` for configuration, 128 + SIGINT
    for an interrupt), so a cron job or CI step can tell a bad invocation from a failure.
    """

    OK = 0
    FAILURE = 1  # the command ran and failed: CommandError, or an unexpected exception
    USAGE = 2  # click refused the command line: unknown option, missing argument, bad value
    CONFIG = 78  # the command's dependencies could not be built (EX_CONFIG)
    INTERRUPTED = 130  # Ctrl-C


class CommandError(Exception):
    """Raise to stop a command with a message for the user and a chosen exit code.

    The message goes to standard error as `Error: <message>`, without a traceback, because
    it reports a condition the user can act on (a missing file, a refused input).
    """

    def __init__(self, message: str, *, exit_code: int = ExitCode.FAILURE) -> None:
        if not 1 <= exit_code <= 255:  # noqa: PLR2004 - the range a process can exit with
            raise ValueError(f"exit code of a failed command must be in 1..255, not {exit_code}")
        super().__init__(message)
        self.message = message
        self.exit_code = int(exit_code)

    def show(self) -> None:
        """Write `Error: <message>` to standard error, as click does for its own errors."""
        click.echo(f"Error: {self.message}", err=True)
