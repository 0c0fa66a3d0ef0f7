"""Driver-side helpers both engines share: format detection, the range plan, and collecting task
results into a command's `CommandRun` (the Ray driver in `ray_run.py`, the local process pool in
`local.py`). Nothing here imports ray."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable

import orjson

from curator.cpus import available_cpus  # noqa: F401 (the engines import it from here)
from curator.engine.ranges import Range, plan_ranges, range_bytes_for
from curator.errors import UsageError
from curator.formats import ReadOptions
from curator.io import ReadStats, read_records
from curator.rejects import RejectSink


def detect_formats(inputs: Iterable[Path], fmt: str | None, opts: ReadOptions, encoding: str | None,
                   stats: ReadStats) -> dict[str, str]:
    """Each input's format, found exactly as the local reader finds it (same code, same errors):
    start `read_records` on the file and stop at the first record."""
    out: dict[str, str] = {}
    for path in inputs:
        probe = ReadStats()
        gen = read_records(path, fmt, opts=opts, encoding=encoding, rejects=RejectSink(None), stats=probe)
        try:
            next(gen, None)
        finally:
            gen.close()
        out.update(probe.formats)
    stats.formats.update(out)
    return out


def all_ranges(inputs: Iterable[Path], workers: int) -> list[Range]:
    paths = list(inputs)
    size = range_bytes_for(paths, workers)
    return [r for p in paths for r in plan_ranges(p, size)]


def collect(run: Any, pairs: Iterable[tuple[str, bytes]], *, count_rows: bool = True,
            forked_rejects: bool = False) -> Counter:
    """Feed task results into the `CommandRun`: rows to its writer, rejects to its sink, counts.
    `count_rows=False` for a second pass over inputs whose rows the first pass already counted.
    `forked_rejects`: the reject lines were made by processes forked from this one that learned
    no secret since (`RejectSink.add_line`: written as they are, not redacted and dumped again)."""
    counts: Counter = Counter()
    ticker = run.progress_ticker() if count_rows and hasattr(run, "progress_ticker") else None
    for kind, data in pairs:
        if kind == "rows":  # a range's rows in one piece, after their count (`tasks.run_range`)
            run.writer.write_block(memoryview(data)[8:], int.from_bytes(data[:8], "little"))
        elif kind == "rows_view":  # the same from the local pool's shared memory: (count, view)
            run.writer.write_block(data[1], data[0])
        elif kind == "row":
            run.writer.write_serialized(data)
        elif kind == "reject":
            if forked_rejects:
                run.rejects.add_line(data)
            else:
                run.rejects.add(**orjson.loads(data))
        elif kind == "usage_error":
            raise UsageError(data.decode("utf-8"))
        else:
            st = orjson.loads(data)
            if count_rows:
                run.read_stats.rows += st["rows"]
            if ticker is not None:
                ticker.advance(st["rows"])  # one range done: the progress line moves by its rows
            counts.update(st["counts"])
    return counts
