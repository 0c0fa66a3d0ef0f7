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

import gc
import mmap
import multiprocessing as mp
from collections import Counter, deque
from itertools import chain
from pathlib import Path
from typing import Any, Iterable, Iterator

from curator.engine.driver import available_cpus, collect, detect_formats
from curator.engine.ranges import Range, cuttable_jsonl, iter_ranges
from curator.engine.tasks import RangeOutput, ReadSpec, WriteSpec, plain_ok, process_range, run_range
from curator.errors import UsageError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions

AUTO_MIN_BYTES = 48 << 20
# ranges of a few MB: small enough to balance two to a few workers and to bound what waits in
# memory (at most WINDOW_PER_WORKER ranges per worker are in flight or waiting to be written)
RANGE_MIN, RANGE_MAX = 1 << 20, 16 << 20
WINDOW_PER_WORKER = 3

# inherited by the forked workers: command, read, stage, write, shared output slots, slot size
_JOB: tuple[str, ReadSpec, Any, WriteSpec | None, Any, int] | None = None


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
    write = WriteSpec(out_format, write_opts or DEFAULT_WRITE) if run.writer is not None else None
    formats: dict[str, str] | None = None
    if n <= 1 and all(cuttable_jsonl(Path(p)) for p in inputs) and plain_ok(stage, opts, encoding, write):
        # convert and validate run range by range in this process too, so that their plain rows
        # take the plain-row path (`curator.fastpath`); other stages, and inputs that would be one
        # whole range held in memory (.gz, .json, Parquet), stream records as before
        formats = detect_formats(inputs, fmt, opts, encoding, run.read_stats)
    if n <= 1 and formats is None:
        counts: Counter = Counter()
        convs = chain.from_iterable(run.read(p, fmt, opts=opts, encoding=encoding, allow=allow) for p in inputs)
        for conv in stage(convs, run.rejects.reject, counts):
            if run.writer is not None:
                run.write(conv)
        return counts
    if formats is None:
        formats = detect_formats(inputs, fmt, opts, encoding, run.read_stats)
    spec = ReadSpec(formats=formats, opts=opts, encoding=encoding, allow=tuple(allow or ()))
    total = sum(Path(p).stat().st_size for p in inputs)
    size = min(RANGE_MAX, max(RANGE_MIN, total // (8 * n)))
    # cut while the first ranges run, hashing each input on the way for the manifest
    ranges = (r for p in inputs for r in iter_ranges(p, size, hash_file=True))
    if n <= 1:
        results = (pair for r in ranges for pair in zip(*run_range(run.command, spec, stage, write, r)))
        return collect(run, results)
    return collect(run, _pool_results(run.command, spec, stage, write, ranges, n, size))


def _worker_start() -> None:
    """A forked worker holds a copy of everything the parent imported: freeze it, so the cyclic
    collector never walks those objects again (a few % of a worker's time, and their memory
    pages stay shared with the parent instead of being copied when the collector touches them)."""
    gc.freeze()


def _work(r: dict[str, Any], slot: int) -> tuple[list[str], list[bytes]]:
    assert _JOB is not None  # set by _pool_results before the fork
    command, read, stage, write, shm, slot_bytes = _JOB
    out = process_range(command, read, stage, write, Range(**r))
    size = sum(map(len, out.rows)) + len(out.rows)
    if shm is None or not out.rows or size > slot_bytes:
        return out.pack()
    # the range's rows go straight into its shared slot: no joined copy, nothing down the pipe
    shm.seek(slot * slot_bytes)
    put = shm.write
    for row in out.rows:
        put(row)
        put(b"\n")
    kinds, datas = RangeOutput([], out.rejects, out.stats).pack()
    return ["rows_in_slot", *kinds], [len(out.rows).to_bytes(8, "little") + size.to_bytes(8, "little"), *datas]


def _pool_results(command: str, read: ReadSpec, stage: Any, write: WriteSpec | None, ranges: Iterable[Range],
                  n: int, range_size: int = RANGE_MAX) -> Iterator[tuple[str, bytes | memoryview]]:
    """(kind, data) pairs of every range, in input order, from `n` forked workers; a bounded window
    of ranges in flight keeps memory flat whatever the input size.

    Output rows come back through shared memory: one slot per range in flight, in an anonymous
    shared mapping made before the fork. Down a pipe, the ~1.1 bytes of output per input byte
    cost the parent a receive, an unpickle and a copy per 64 KiB of pipe (~0.5 CPU-s per 200 MB
    here, a fifth of what the workers spend). A range is given the slot of the range `window`
    places before it, once the driver has written that one; a block larger than its slot takes
    the pipe."""
    global _JOB
    window = WINDOW_PER_WORKER * n
    # canonical output runs ~1.1x the input it comes from; a range whose output is larger than its
    # slot takes the pipe (slower, never wrong), and smaller slots keep the peak RSS down
    slot_bytes = range_size * 3 // 2 + (1 << 20)
    shm = mmap.mmap(-1, window * slot_bytes) if write is not None else None
    view = memoryview(shm) if shm is not None else None
    _JOB = (command, read, stage, write, shm, slot_bytes)
    try:
        with mp.get_context("fork").Pool(n, initializer=_worker_start) as pool:
            todo = iter(ranges)
            pending: deque = deque()
            for i, r in enumerate(todo):
                pending.append(pool.apply_async(_work, (r.to_dict(), i % window)))
                if len(pending) >= window:
                    break
            done = 0
            while pending:
                kinds, datas = pending.popleft().get()
                for kind, data in zip(kinds, datas):
                    if kind == "rows_in_slot":  # data: row count, then bytes in the slot
                        start = (done % window) * slot_bytes
                        yield "rows_view", (int.from_bytes(data[:8], "little"),  # type: ignore[misc]
                                            view[start:start + int.from_bytes(data[8:], "little")])  # type: ignore[index]
                    else:
                        yield kind, data
                # only now is this range's slot free again
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_work, (nxt.to_dict(), (done + window) % window)))
                done += 1
    finally:
        _JOB = None
