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
from typing import Any, Callable, Iterable, Iterator

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
                  n: int, range_size: int = RANGE_MAX) -> Iterator[tuple[str, Any]]:
    """(kind, data) pairs of every range, in input order, from `n` forked workers.

    Output rows come back through shared memory: one slot per range in flight, in an anonymous
    shared mapping made before the fork. Down a pipe, the ~1.1 bytes of output per input byte
    cost the parent a receive, an unpickle and a copy per 64 KiB of pipe (~0.5 CPU-s per 200 MB
    here, a fifth of what the workers spend). Range i uses slot i % window: `ordered_map` hands
    out item i + window only after the driver has consumed result i, so the slot is free again;
    a block larger than its slot takes the pipe."""
    global _JOB
    window = WINDOW_PER_WORKER * n
    # canonical output runs ~1.1x the input it comes from; a range whose output is larger than its
    # slot takes the pipe (slower, never wrong), and smaller slots keep the peak RSS down
    slot_bytes = range_size * 3 // 2 + (1 << 20)
    shm = mmap.mmap(-1, window * slot_bytes) if write is not None else None
    view = memoryview(shm) if shm is not None else None
    _JOB = (command, read, stage, write, shm, slot_bytes)
    try:
        items = ((r.to_dict(), i % window) for i, r in enumerate(ranges))
        for done, (kinds, datas) in enumerate(ordered_map(_work, items, n)):
            for kind, data in zip(kinds, datas):
                if kind == "rows_in_slot":  # data: row count, then bytes in the slot
                    start = (done % window) * slot_bytes
                    yield "rows_view", (int.from_bytes(data[:8], "little"),
                                        view[start:start + int.from_bytes(data[8:], "little")])  # type: ignore[index]
                else:
                    yield kind, data
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
    memory stays flat whatever the input size. Item i + WINDOW_PER_WORKER * n is handed out only
    once the caller has taken result i and asked for the next (`_pool_results` reuses its slot)."""
    global _FN
    if n <= 1:
        for item in items:
            yield fn(*item)
        return
    _FN = fn
    try:
        with mp.get_context("fork").Pool(n, initializer=_worker_start) as pool:
            todo = iter(items)
            pending: deque = deque()
            for item in todo:
                pending.append(pool.apply_async(_call, (item,)))
                if len(pending) >= WINDOW_PER_WORKER * n:
                    break
            while pending:
                yield pending.popleft().get()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_call, (nxt,)))
    finally:
        _FN = None
