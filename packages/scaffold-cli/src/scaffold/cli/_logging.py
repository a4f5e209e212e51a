"""Logging configured once per process: readable lines for people, JSON lines for machines."""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import sys
from typing import IO, Final, Literal

LogFormat = Literal["console", "json"]

LOG_FORMATS: Final = ("console", "json")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# The command running now, added to every record so a log line says which run wrote it.
current_command: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "scaffold_cli_command", default=None
)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is data.
_RECORD_ATTRIBUTES: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "command",
}


def _extra_fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRIBUTES}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds")


class _CommandFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.command = current_command.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, command, and the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        command = getattr(record, "command", None)
        if command is not None:
            entry["command"] = command
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """`time level logger: message key=value ...`, the `extra` fields as key=value pairs."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _extra_fields(record)
        command = getattr(record, "command", None)
        if command is not None:
            fields = {"command": command, **fields}
        pairs = "".join(f" {key}={value!r}" for key, value in fields.items())
        line = f"{_timestamp(record)} {record.levelname:<8} {record.name}: {record.getMessage()}"
        line += pairs
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _ScaffoldHandler(logging.StreamHandler[IO[str]]):
    """Marks the handler this module installed, so configuring again replaces it."""


def configure_logging(
    level: str | int = "INFO",
    log_format: LogFormat = "console",
    *,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send all logging to standard error (or `stream`) in the given format, once.

    Calling it again replaces the handler installed before rather than adding a second one,
    so every record is written exactly once. Handlers that others added stay untouched.

    Parameters:
        level: a level name (`"DEBUG"`, `"info"`) or number for the root logger.
        log_format: `"console"` for people, `"json"` for log collectors.
        stream: where to write; standard error by default.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    if isinstance(level, str):
        name = level.upper()
        if name not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
        level = logging.getLevelNamesMapping()[name]
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _ScaffoldHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _ScaffoldHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else ConsoleFormatter())
    handler.addFilter(_CommandFilter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
