"""Logging configured once: console or JSON lines, the running command on every record."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from scaffold.cli import CliApp, configure_logging
from scaffold.di import Container


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


class TestConfigureLogging:
    def test_json_lines_carry_the_extra_fields(self) -> None:
        """A JSON line has time, level, logger, message and each `extra` field."""
        stream = io.StringIO()
        configure_logging("INFO", "json", stream=stream)
        logging.getLogger("shop.orders").info("order %s placed", 42, extra={"total": 9.5})
        entry = json.loads(stream.getvalue())
        assert entry["level"] == "INFO"
        assert entry["logger"] == "shop.orders"
        assert entry["message"] == "order 42 placed"
        assert entry["total"] == 9.5
        assert entry["time"].endswith("+00:00")

    def test_console_lines_show_extra_fields_as_pairs(self) -> None:
        """A console line ends with the `extra` fields as key=value."""
        stream = io.StringIO()
        configure_logging("DEBUG", "console", stream=stream)
        logging.getLogger("shop").debug("paid", extra={"order": 7})
        assert stream.getvalue().rstrip().endswith("DEBUG    shop: paid order=7")

    def test_configuring_again_replaces_the_handler(self) -> None:
        """Calling it twice leaves one handler, so each record is written once."""
        first, second = io.StringIO(), io.StringIO()
        configure_logging("INFO", "json", stream=first)
        configure_logging("INFO", "console", stream=second)
        logging.getLogger("x").warning("once")
        assert first.getvalue() == ""
        assert second.getvalue().count("once") == 1

    def test_the_level_filters_records(self) -> None:
        """Records below the configured level are not written."""
        stream = io.StringIO()
        configure_logging("warning", "console", stream=stream)
        logging.getLogger("x").info("hidden")
        assert stream.getvalue() == ""

    @pytest.mark.parametrize(
        ("level", "log_format", "message"),
        [("LOUD", "console", "log level"), ("INFO", "xml", "log format")],
    )
    def test_bad_settings_are_refused(self, level: str, log_format: str, message: str) -> None:
        """An unknown level or format is refused with a message naming the choices."""
        with pytest.raises(ValueError, match=message):
            configure_logging(level, log_format, stream=io.StringIO())  # type: ignore[arg-type]  # the bad value under test


class TestAppLogging:
    def test_records_name_the_running_command(self) -> None:
        """Log records written during a command run carry the command's path."""
        app = CliApp("shop", container=Container)

        @app.group()
        def orders() -> None:
            """Orders."""

        @orders.command()
        def close() -> None:
            logging.getLogger("shop").warning("closing")

        result = CliRunner().invoke(app, ["--log-format", "json", "orders", "close"])
        assert result.exit_code == 0, result.output
        entry = json.loads(result.output.strip().splitlines()[-1])
        assert entry["command"] == "shop orders close"
        assert entry["message"] == "closing"

    def test_level_and_format_come_from_the_environment(self) -> None:
        """`<NAME>_LOG_LEVEL` and `<NAME>_LOG_FORMAT` set the defaults of the options."""
        app = CliApp("my-shop", container=Container)

        @app.command()
        def talk() -> None:
            logging.getLogger("shop").debug("detail")

        env = {"MY_SHOP_LOG_LEVEL": "DEBUG", "MY_SHOP_LOG_FORMAT": "json"}
        result = CliRunner(env=env).invoke(app, ["talk"])
        entries = [json.loads(line) for line in result.output.splitlines()]
        assert {"logger": "shop", "message": "detail"} in [
            {"logger": e["logger"], "message": e["message"]} for e in entries
        ]

    def test_a_bad_level_is_a_usage_error(self) -> None:
        """An unknown `--log-level` exits with 2, naming the option."""
        app = CliApp("shop", container=Container)
        result = CliRunner().invoke(app, ["--log-level", "LOUD", "x"])
        assert result.exit_code == 2
        assert "--log-level" in result.output


def test_unconfigured_commands_still_run() -> None:
    """A command defined without any logging set-up runs (click-only use)."""

    @click.command()
    def plain() -> None:
        click.echo("ok")

    assert CliRunner().invoke(plain).output == "ok\n"
