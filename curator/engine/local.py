"""The local engine: run a stage in this process, or over ranges of the input on a pool of worker
processes on this machine.

It runs the same stage object (`curator.engine.tasks`) the Ray engine maps, and in the pool each
worker runs the same per-range function (`tasks.run_range`), so the output, the rejects and the
manifest are byte-identical whichever way a stage runs.

Why processes: reading JSON, building records, validating, filtering and rendering are pure Python
per record and hold the GIL, so one process keeps one core busy. Why fork: a stage may hold things
that do not pickle (a user's filter function, a loaded tokenizer); it is set in this module before
the pool forks, and each worker finds it in its copy. Only range descriptions go to the workers,
and serialised rows, reject lines and counters come back, in input order.

When: `--workers auto` (the default) uses one worker per core when the input is at least
`AUTO_MIN_BYTES` of regular files; below that, forking and the range scan cost more than they save.
Inputs that are not regular files (a FIFO, standard input) are read once, in-process.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter, deque
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from curator.engine.driver import available_cpus, collect, detect_formats
from curator.engine.ranges import Range, plan_ranges
from curator.engine.tasks import ReadSpec, WriteSpec, run_range
from curator.errors import UsageError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions

AUTO_MIN_BYTES = 48 << 20
# ranges of a few MB: small enough to balance two to a few workers and to bound what waits in
# memory (at most WINDOW_PER_WORKER ranges per worker are in flight or waiting to be written)
RANGE_MIN, RANGE_MAX = 1 << 20, 16 << 20
WINDOW_PER_WORKER = 3

_JOB: tuple[str, ReadSpec, Any, WriteSpec | None] | None = None  # inherited by the forked workers


def parse_workers(value: str | int | None) -> int | None:
    """`--workers`: None for auto, else a count >= 1."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"--workers {value!r}: a number of processes, or auto") from None
    if n < 1:
        raise UsageError("--workers must be >= 1")
    return n


def resolve_workers(workers: int | None, inputs: Iterable[Path]) -> int:
    """How many processes to use: 1 unless every input is a regular file (a FIFO is read once),
    and for auto, unless the input is large enough to pay for the pool."""
    paths = [Path(p) for p in inputs]
    if not paths or not all(p.is_file() for p in paths):
        return 1
    if workers is not None:
        return workers
    if sum(p.stat().st_size for p in paths) < AUTO_MIN_BYTES:
        return 1
    return max(1, available_cpus())


def run_stage(run: Any, inputs: list[Path], *, fmt: str | None, opts: ReadOptions = DEFAULT_READ,
              encoding: str | None = None, allow: Iterable[str] = (), stage: Any, workers: int | None = None,
              out_format: str = "messages", write_opts: WriteOptions | None = None) -> Counter:
    """Run `stage` over `inputs` and write everything through `run` (a `CommandRun`); returns the
    stage's counters. `workers`: None for auto, 1 for this process only."""
    n = resolve_workers(workers, inputs)
    run.extra["workers"] = n
    if n <= 1:
        counts: Counter = Counter()
        convs = chain.from_iterable(run.read(p, fmt, opts=opts, encoding=encoding, allow=allow) for p in inputs)
        for conv in stage(convs, run.rejects.reject, counts):
            if run.writer is not None:
                run.write(conv)
        return counts
    formats = detect_formats(inputs, fmt, opts, encoding, run.read_stats)
    spec = ReadSpec(formats=formats, opts=opts, encoding=encoding, allow=tuple(allow or ()))
    write = WriteSpec(out_format, write_opts or DEFAULT_WRITE) if run.writer is not None else None
    total = sum(Path(p).stat().st_size for p in inputs)
    size = min(RANGE_MAX, max(RANGE_MIN, total // (8 * n)))
    ranges = [r for p in inputs for r in plan_ranges(p, size)]
    return collect(run, _pool_results(run.command, spec, stage, write, ranges, n))


def _work(r: dict[str, Any]) -> tuple[list[str], list[bytes]]:
    assert _JOB is not None  # set by _pool_results before the fork
    command, read, stage, write = _JOB
    return run_range(command, read, stage, write, Range(**r))


def _pool_results(command: str, read: ReadSpec, stage: Any, write: WriteSpec | None, ranges: list[Range],
                  n: int) -> Iterator[tuple[str, bytes]]:
    """(kind, data) pairs of every range, in input order, from `n` forked workers."""
    global _JOB
    _JOB = (command, read, stage, write)
    try:
        for kinds, datas in ordered_map(_work, ((r.to_dict(),) for r in ranges), n):
            yield from zip(kinds, datas)
    finally:
        _JOB = None


_FN: Callable[..., Any] | None = None  # the function `ordered_map`'s forked workers call


def _call(args: tuple) -> Any:
    assert _FN is not None  # set by ordered_map before the fork
    return _FN(*args)


def ordered_map(fn: Callable[..., Any], items: Iterable[tuple], n: int) -> Iterator[Any]:
    """`fn(*item)` for every item, in order, on `n` forked workers (in this process when n <= 1).

    `fn` itself is inherited by the fork (it need not pickle); items and results cross a pipe.
    Items are drawn lazily and at most WINDOW_PER_WORKER per worker are in flight or waiting, so
    memory stays flat whatever the input size."""
    global _FN
    if n <= 1:
        for item in items:
            yield fn(*item)
        return
    _FN = fn
    try:
        with mp.get_context("fork").Pool(n) as pool:
            todo = iter(items)
            pending: deque = deque()
            for item in todo:
                pending.append(pool.apply_async(_call, (item,)))
                if len(pending) >= WINDOW_PER_WORKER * n:
                    break
            while pending:
                res = pending.popleft().get()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_call, (nxt,)))
                yield res
    finally:
        _FN = None
