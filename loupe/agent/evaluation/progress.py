"""A rich progress bar on stderr (``show=False``: none), used as ``with progress_bar(...) as advance``."""

from __future__ import annotations

from contextlib import contextmanager
import sys


@contextmanager
def progress_bar(description: str, total: int, show: bool = True):
    """Yields ``advance(n=1)``."""
    if not show:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=sys.stderr)) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)
