"""`curate dedup` on the local engine: both passes over input ranges on a pool of forked workers.

The plan is the Ray driver's (`ray_dedup.py`), on one machine and without a shuffle:

1. Pass 1 (workers): each range is parsed, validated and sketched (`dedup_tasks.sketch_range`);
   only arrays and ids come back. The parent adds them in range order — the input order, bad rows
   excluded — so record indices, and every decision, are those of a single process.
2. Plan (parent): `curator.dedup.plan` over the sketches; then the signatures are let go.
3. Pass 2 (workers): each range is told which of its records to drop and why
   (`dedup_tasks.drops_payload`), re-reads itself and sends back rendered rows and reject lines,
   which the parent writes in range order (`driver.collect`).

Why: parsing is pure Python and holds the GIL, so one process parsed both passes at ~11 MB/s
while the old pool only computed signatures (and the texts were pickled to it). Here every CPU
parses, sketches and renders, and no text crosses a pipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from curator.dedup import DedupConfig, Sketches, plan
from curator.engine.dedup_plain import keep_range
from curator.engine.dedup_tasks import drops_payload, sketch_range
from curator.engine.driver import available_cpus, collect, detect_formats
from curator.engine.local import ordered_map
from curator.engine.ranges import Range, plan_ranges
from curator.engine.tasks import ReadSpec, WriteSpec
from curator.errors import UsageError
from curator.minhash_kernel import warm

AUTO_MIN_BYTES = 8 << 20  # below this a pool's start-up costs more than it saves
RANGE_MIN, RANGE_MAX = 1 << 20, 16 << 20


def can_run(inputs: list[Path]) -> bool:
    """Ranges need regular files (a FIFO or standard input is read once, as a stream)."""
    return bool(inputs) and all(Path(p).is_file() for p in inputs)


def pool_size(workers: int, inputs: list[Path]) -> int:
    """`--workers` (0 = auto: one per core when the input is large enough to pay for the pool)."""
    if workers > 0:
        return workers
    total = sum(Path(p).stat().st_size for p in inputs)
    return max(1, available_cpus()) if total >= AUTO_MIN_BYTES else 1


def run_dedup_local(run: Any, inputs: list[Path], cfg: DedupConfig, *, fmt: str | None, ropts: Any,
                    encoding: str | None, workers: int, out_format: str = "messages",
                    rejects_mode: str = "full") -> tuple[Any, list[str], list]:
    """Both passes and the plan; writes the output and rejects through `run`. Returns (plan, ids,
    origins) for the side reports (`curator.dedup_stage.finish`)."""
    n_proc = pool_size(workers, inputs)
    formats = detect_formats(inputs, fmt, ropts, encoding, run.read_stats)
    spec = ReadSpec(formats=formats, opts=ropts, encoding=encoding)
    total = sum(Path(p).stat().st_size for p in inputs)
    size = min(RANGE_MAX, max(RANGE_MIN, total // (8 * n_proc)))
    ranges = [r for p in inputs for r in plan_ranges(p, size)]
    if not cfg.exact_only and total >= AUTO_MIN_BYTES:
        warm()  # the compiled MinHash loops, loaded once here rather than in each forked worker

    # ---- pass 1
    sk = Sketches()
    counts: list[int] = []
    bad: list[list[int]] = []  # per range: lines of the rows pass 1 rejected (pass 2 skips them unvalidated)
    ticker = run.progress_ticker() if hasattr(run, "progress_ticker") else None
    for rs in ordered_map(sketch_range, ((r, spec, cfg) for r in ranges), n_proc):
        sk.add(rs.sketch, rs.ids, rs.origins, rs.lengths, rs.scores)
        counts.append(rs.n)
        run.read_stats.rows += rs.rows
        bad.append([])
        for line in rs.rejects:  # bad rows, in input order, as a single process rejects them
            entry = orjson.loads(line)
            bad[-1].append(entry.get("line"))
            run.rejects.add(**entry)
        if ticker is not None:
            ticker.advance(rs.rows)

    pl = plan(sk, cfg)
    ids, origins = sk.ids, sk.origins
    del sk  # the signatures: pass 2 needs only the plan, the ids and the origins

    # ---- pass 2
    # pass 2 reads the rows pass 1 validated: validation is not repeated, the bad rows' lines are skipped
    quiet = ReadSpec(formats=formats, opts=ropts, encoding=encoding, report_bad_rows=False, validate=False)
    write = WriteSpec(out_format)

    def items():
        base = 0
        for r, n, skip in zip(ranges, counts, bad):
            yield r, drops_payload(pl, ids, origins, base, n, r, spec, rejects_mode, skip)
            base += n

    def keep(r: Range, payload: bytes) -> tuple[list[str], list[bytes]]:
        return keep_range(quiet, write, r, payload)  # kept plain rows skip the parse (`dedup_plain`)

    def pairs():
        for kinds, datas in ordered_map(keep, items(), n_proc):
            yield from zip(kinds, datas)

    # the workers were forked after every secret this run knows (dedup reads no API key)
    seen = collect(run, pairs(), count_rows=False, forked_rejects=True)
    if seen["records"] != len(ids):
        raise UsageError(f"an input changed while dedup was reading it ({seen['records']} records on the second "
                         f"pass, {len(ids)} on the first); run again")
    return pl, ids, origins
