"""Progress on standard error: live bars on a terminal, start and end lines elsewhere."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from scaffold.cli import Progress


def console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100), out


class TestProgress:
    def test_without_a_terminal_it_prints_start_and_end_lines(self) -> None:
        """In a log, a task shows as a start line and an end line with its count."""
        con, out = console(terminal=False)
        with Progress(con).task("Importing", total=3) as task:
            task.advance(2)
            task.advance()
        lines = out.getvalue().splitlines()
        assert lines[0] == "Importing ..."
        assert lines[1].startswith("Importing: 3/3 in ")

    def test_track_yields_every_item_and_counts_them(self) -> None:
        """`track` passes the items through and counts each, with the total from len()."""
        con, out = console(terminal=False)
        assert list(Progress(con).track(["a", "b"], "Copying")) == ["a", "b"]
        assert "Copying: 2/2" in out.getvalue()

    def test_unknown_total_shows_the_count_alone(self) -> None:
        """Without a total the end line shows how many were done."""
        con, out = console(terminal=False)
        with Progress(con).task("Scanning") as task:
            task.advance(5)
            task.update(description="Scanning more")
        assert "Scanning: 5 in " in out.getvalue()

    def test_on_a_terminal_it_draws_a_bar(self) -> None:
        """On a terminal the bar is drawn with the description and the count."""
        con, out = console(terminal=True)
        with Progress(con).task("Sending", total=2) as task:
            task.advance(2)
        assert "Sending" in out.getvalue()
        assert "2/2" in out.getvalue()

    def test_progress_cannot_go_backwards(self) -> None:
        """A negative advance is refused."""
        con, _ = console(terminal=False)
        with Progress(con).task("x", total=1) as task, pytest.raises(ValueError, match="backwards"):
            task.advance(-1)
