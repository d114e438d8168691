"""Progress display for long work (model preparation, training, ingestion), on stderr.

Library code calls `progress_bar(...)`; it draws with Rich when stderr is a terminal (or
VOICE_PROGRESS=1) and stays silent otherwise, so services and tests are not cluttered.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

stderr_console = Console(stderr=True)


def progress_enabled() -> bool:
    flag = os.environ.get("VOICE_PROGRESS")
    if flag is not None:
        return flag not in ("0", "false", "no")
    return sys.stderr.isatty()


class _Bar:
    def __init__(self, progress: Progress, task_id: int):
        self._progress, self._task = progress, task_id

    def advance(self, amount: float = 1) -> None:
        self._progress.advance(self._task, amount)

    def update(self, **fields: object) -> None:
        self._progress.update(self._task, **fields)


@contextmanager
def progress_bar(description: str, total: float | None, unit: str = "items") -> Iterator[_Bar]:
    """A progress bar; `unit="bytes"` shows sizes and speed."""
    if unit == "bytes":
        columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn()]
    else:
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=stderr_console, disable=not progress_enabled(), transient=True) as p:
        yield _Bar(p, p.add_task(description, total=total))
