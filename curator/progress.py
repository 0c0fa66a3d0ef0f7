"""A live progress line on stderr for generating commands (rich), plus the final summary line.

Shows done / total, requests/s, tokens/s, retries, failures, ETA and — when prices per million
tokens are given — the estimated cost of what this run sent (cached answers cost nothing).
When stderr is not a terminal rich draws nothing live; the summary line is printed either way.
"""

from __future__ import annotations

import time
from typing import Any

from curator.generation import GenerationStats


class GenerationProgress:
    def __init__(self, stats: GenerationStats, total: int | None, *, label: str = "distill",
                 price_in: float | None = None, price_out: float | None = None, enabled: bool = True):
        self.stats = stats
        self.total = total
        self.label = label
        self.price_in = price_in
        self.price_out = price_out
        self.done = 0
        self._t0 = time.perf_counter()
        self._last = 0.0
        self._progress: Any = None
        self._task: Any = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from curator.runner import err_console

            self._progress = Progress(TextColumn(label), BarColumn(bar_width=24), MofNCompleteColumn(),
                                      TimeRemainingColumn(), TextColumn("{task.fields[line]}"),
                                      console=err_console, transient=False, refresh_per_second=4)
            self._task = self._progress.add_task(label, total=total, line="")

    def __enter__(self) -> "GenerationProgress":
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, line=self.line())
            self._progress.stop()

    def line(self) -> str:
        s = self.stats
        dt = max(time.perf_counter() - self._t0, 1e-9)
        parts = [f"{s.sent / dt:,.1f} req/s", f"{(s.prompt_tokens + s.completion_tokens) / dt:,.0f} tok/s",
                 f"cached {s.cache_hits}", f"retries {s.retries}", f"failures {s.failures}"]
        cost = s.cost(self.price_in, self.price_out)
        if cost is not None:
            parts.append(f"cost ${cost:,.4f}")
        return "  ".join(parts)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._progress is None:
            return
        now = time.perf_counter()
        if now - self._last >= 0.1 or (self.total is not None and self.done >= self.total):
            self._last = now
            self._progress.update(self._task, completed=self.done, line=self.line())

    def summary(self) -> str:
        dt = time.perf_counter() - self._t0
        return f"{self.label}: {self.done} records in {dt:.2f}s; {self.line()}"
