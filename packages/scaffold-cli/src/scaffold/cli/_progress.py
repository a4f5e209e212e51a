"""Progress display for long commands, drawn by rich on standard error."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


class ProgressTask:
    """One bar: advance it as work gets done."""

    def __init__(self, bars: RichProgress, task_id: TaskID, total: float | None) -> None:
        self._bars = bars
        self._task_id = task_id
        self._total = total
        self._completed = 0.0

    @property
    def completed(self) -> float:
        return self._completed

    @property
    def total(self) -> float | None:
        return self._total

    def advance(self, amount: float = 1) -> None:
        """Count `amount` more units of work as done."""
        if amount < 0:
            raise ValueError(f"progress cannot go backwards (advance by {amount})")
        self._completed += amount
        self._bars.update(self._task_id, completed=self._completed)

    def update(self, *, description: str | None = None, total: float | None = None) -> None:
        """Change the text shown, or the total once it becomes known."""
        if total is not None:
            self._total = total
        self._bars.update(self._task_id, description=description, total=total)


class Progress:
    """Progress bars for a command, on standard error so standard output stays for data.

    On a terminal the bars are drawn live; elsewhere (a pipe, a CI log, cron) a line is
    printed when a task starts and when it ends, so the log still says what happened.
    Commands get one injected: declare a parameter `progress: Progress`.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console if console is not None else Console(stderr=True)

    @contextlib.contextmanager
    def task(self, description: str, *, total: float | None = None) -> Iterator[ProgressTask]:
        """Show a bar (or a spinner when `total` is unknown) while the block runs."""
        live = self.console.is_terminal
        bars = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not live,
            transient=False,
        )
        started = time.monotonic()
        if not live:
            self.console.print(f"{description} ...", highlight=False)
        with bars:
            task = ProgressTask(bars, bars.add_task(description, total=total), total)
            yield task
        if not live:
            if task.total is not None:
                done = f"{task.completed:g}/{task.total:g}"
            else:
                done = f"{task.completed:g}" if task.completed else "done"
            elapsed = time.monotonic() - started
            self.console.print(f"{description}: {done} in {elapsed:.1f}s", highlight=False)

    def track[T](
        self, items: Iterable[T], description: str, *, total: float | None = None
    ) -> Iterator[T]:
        """Yield `items`, advancing a bar by one for each (total from `len()` when it has one)."""
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]  # checked by hasattr just above
        with self.task(description, total=total) as task:
            for item in items:
                yield item
                task.advance()
