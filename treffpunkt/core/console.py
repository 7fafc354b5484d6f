"""Shared terminal output: one console, progress bars that stay quiet when not on a TTY."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")


@contextmanager
def progress_bar(unit: str = "items") -> Iterator[Progress]:
    """A rich progress bar on stderr; disabled automatically when stderr is not a terminal."""
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{unit}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
        transient=False,
    )
    with bar:
        yield bar


def track(items: Iterable[T], description: str, *, total: int | None = None, unit: str = "items") -> Iterator[T]:
    """Iterate with a progress bar (quiet when not on a TTY)."""
    with progress_bar(unit) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
