"""One progress line on stderr for long commands: records done (of total), rate and ETA.

On a terminal it is a live Rich line that disappears when the command's summary is printed.
Piped (a log file, CI) it stays quiet, because a live line turns into thousands of lines there;
`--progress` (or CURATE_PROGRESS=1) asks for it anyway, and then a plain line is printed every
few seconds instead (CURATE_PROGRESS_EVERY=SECONDS, default 5). `--no-progress` (CURATE_PROGRESS=0) silences it on a terminal too.

`CommandRun.read` wraps every input with `RecordProgress.wrap`, so each command that reads
through the runner (convert, validate, filter, dedup, score, mix, split) shows progress without
code of its own; generation commands count finished prompts with `curator.progress` instead.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

T = TypeVar("T")
ENV = "CURATE_PROGRESS"
PIPED_EVERY_S = 5.0


def wanted() -> bool | None:
    """True/False when the user asked (--progress / --no-progress), None to decide by the terminal."""
    v = os.environ.get(ENV, "").strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    return None


def enabled() -> bool:
    w = wanted()
    if w is not None:
        return w
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def count_rows(inputs: Iterable[str | Path]) -> int | None:
    """Rows in the inputs when cheap to know (JSONL files up to 2 GB: a line count), else None."""
    total = 0
    for p in inputs:
        p = Path(p)
        name = p.name.lower()
        if not name.endswith(".jsonl") or not p.is_file() or p.stat().st_size > 2 << 30:
            return None
        with open(p, "rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


def fmt_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "-:--"
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class RecordProgress:
    """Counts items; shows `label  done/total  rate/s  ETA` on stderr while running."""

    def __init__(self, label: str, total: int | None = None, *, unit: str = "rec", live: bool | None = None):
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self._t0 = time.perf_counter()
        self._last = self._t0  # piped: the first line after one interval, not on the first record
        self._progress: Any = None
        self._task: Any = None
        self._piped = False
        try:
            self._every = float(os.environ.get("CURATE_PROGRESS_EVERY", PIPED_EVERY_S))
        except ValueError:
            self._every = PIPED_EVERY_S
        if not (enabled() if live is None else live):
            return
        from curator.termout import err_console

        if err_console.is_terminal:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                       TimeRemainingColumn)

            cols = [TextColumn(label), BarColumn(bar_width=24), MofNCompleteColumn() if total else
                    TextColumn("{task.completed:,.0f}"), TextColumn("{task.fields[rate]}"),
                    TimeRemainingColumn() if total else TextColumn("")]
            if total:
                cols.insert(2, TaskProgressColumn())
            self._progress = Progress(*cols, console=err_console, transient=True, refresh_per_second=4)
            self._task = self._progress.add_task(label, total=total, rate="")
            self._progress.start()
        else:
            self._piped = True

    def rate(self) -> float:
        return self.done / max(time.perf_counter() - self._t0, 1e-9)

    def eta(self) -> float | None:
        r = self.rate()
        return (self.total - self.done) / r if self.total and r > 0 else None

    def line(self) -> str:
        of = f"/{self.total:,}" if self.total else ""
        pct = f" ({self.done / self.total:.0%})" if self.total else ""
        eta = f"  ETA {fmt_eta(self.eta())}" if self.total else ""
        return f"{self.label}: {self.done:,}{of}{pct}  {self.rate():,.0f} {self.unit}/s{eta}"

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self._progress is not None and now - self._last >= 0.1:
            self._last = now
            self._progress.update(self._task, completed=self.done, rate=f"{self.rate():,.0f} {self.unit}/s")
        elif self._piped and now - self._last >= self._every:
            self._last = now
            from curator.termout import err_console

            err_console.print(self.line(), soft_wrap=True, highlight=False, markup=False)

    def wrap(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            yield item
            self.advance()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> "RecordProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
