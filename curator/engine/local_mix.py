"""`curate mix` on the local engine's pool of forked workers: the single-process plan, every core parsing.

Both passes read, parse and validate every record (and pass 2 renders the chosen copies): pure
Python, so one process used one core. Here the sources' ranges run on `ordered_map`'s workers, and
every sampling decision stays in this process:

1. Index (workers): each range's (weight, stratum label) per valid record (`mix.index_fields`) and
   its bad rows' reject lines; the parent adds them in range order with `index_add`, so each
   `SourceIndex` — and `plan_mix` with its seeded RNG — is exactly the single process's.
2. Plan (parent): `plan_mix`, unchanged.
3. Emit (workers): for each source and epoch, each range is given its slice of the multiplicities and
   sends back its copies of that epoch tagged (`tag_copy`) and rendered; the parent walks each
   source's copies epoch by epoch and interleaves the sources as `mix.emit` does (`interleave`), so
   the output is byte-identical to one process for the same seed (`tests/test_mix_local.py`).

One source's copies stream from the pool as the output is written (a few ranges in memory); several
sources are spooled one after the other to unnamed temp files beside the output, then interleaved.
"""

from __future__ import annotations

import tempfile
from array import array
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import orjson

from curator.engine.driver import detect_formats
from curator.engine.local import ordered_map
from curator.engine.ranges import Range, plan_ranges
from curator.engine.tasks import BufferSink, ReadSpec, WriteSpec, read_range, render_rows
from curator.errors import UsageError
from curator.io import ReadStats
from curator.mix import MixConfig, MixPlan, SourceIndex, index_add, index_fields, interleave, plan_mix, tag_copy
from curator.rejects import RejectSink

# ranges of 1-16 MiB, ~8 per worker: smaller than `ranges.range_bytes_for`'s (up to 64 MiB) because a
# range's rendered copies cross the pipe in one piece, a few per worker in flight (as in local_dedup)
RANGE_MIN, RANGE_MAX = 1 << 20, 16 << 20
ROW, ROW_REASONING, REJECT = 0, 1, 2  # what a copy became (one byte per copy from the workers)


def run_mix_local(run: Any, cfg: MixConfig, *, encoding: str | None, count: Callable[[str], int] | None,
                  workers: int, out_format: str, write_opts: Any) -> tuple[MixPlan, list, list[int], list[int]]:
    """Index, plan and emit on `workers` forked processes, writing through `run`. Returns (plan,
    indexes, written, with_reasoning), as `mix_run._mix_local` does."""
    paths = [Path(s.path) for s in cfg.sources]
    size = min(RANGE_MAX, max(RANGE_MIN, sum(p.stat().st_size for p in paths) // (8 * workers)))
    specs, ranges = [], []
    for s, p in zip(cfg.sources, paths):
        specs.append(ReadSpec(formats=detect_formats([p], s.fmt, ReadSpec({}).opts, encoding, run.read_stats),
                              encoding=encoding))
        ranges.append(plan_ranges(p, size))
    counter = count or (lambda t: 0)

    # ---- pass 1: every source's ranges on one pool, added in order
    def index_range(r: Range, spec: ReadSpec) -> tuple[int, list, list[bytes]]:
        sink, stats = BufferSink("mix"), ReadStats()
        fields = [index_fields(c, by=cfg.by, count=counter, stratify=cfg.stratify)
                  for c in read_range(r, spec, sink, stats)]
        return stats.rows, fields, sink.lines()

    indexes = [SourceIndex(s.name) for s in cfg.sources]
    strata: list[dict[str, int]] = [{} for _ in cfg.sources]
    per_range: list[list[int]] = [[] for _ in cfg.sources]
    owner = [i for i, rs in enumerate(ranges) for _ in rs]
    ticker = run.progress_ticker() if hasattr(run, "progress_ticker") else None
    items = ((r, specs[i]) for i, rs in enumerate(ranges) for r in rs)
    for i, (rows, fields, rejects) in zip(owner, ordered_map(index_range, items, workers)):
        run.read_stats.rows += rows
        for line in rejects:  # bad rows, in input order, as the single process rejects them
            run.rejects.add(**orjson.loads(line))
        per_range[i].append(len(fields))
        for weight, label in fields:
            index_add(indexes[i], weight, label, strata[i])
        if ticker is not None:
            ticker.advance(rows)
    plan = plan_mix(cfg, indexes)

    # ---- pass 2: each source's copies, epoch by epoch, interleaved as `mix.emit` does
    write = WriteSpec(out_format, write_opts)

    def emit_range(r: Range, spec: ReadSpec, mult: bytes, expect: int, epoch: int, name: str,
                   file_name: str) -> tuple[bytes, bytes, str | None]:
        """This range's copies of its records in `epoch`, tagged and rendered: (kinds, lines, error).
        `kinds` has one byte per copy (ROW, ROW_REASONING, or REJECT for a copy the output format
        cannot hold), `lines` the rendered rows and reject lines, each ending in a newline (orjson
        never writes a raw one). Two bytes objects, not a list of rows, cross the pipe."""
        m = array("I")
        m.frombytes(mult)
        sink = BufferSink("mix")
        kinds = bytearray()
        lines: list[bytes] = []
        n = 0
        for k, conv in enumerate(read_range(r, spec, RejectSink(None), ReadStats())):
            n += 1
            if k < len(m) and m[k] > epoch:
                c = tag_copy(conv, name, epoch, file_name)
                rows = render_rows([c], write, sink)
                if rows:
                    kinds.append(ROW_REASONING if any(x.reasoning for x in c.messages) else ROW)
                    lines.append(rows[0])
                else:
                    kinds.append(REJECT)
                    lines.append(sink.take()[-1])
        if n != expect:
            return b"", b"", f"source {name} changed while mixing ({r.path}: {n} valid records in a range that had {expect})"
        return bytes(kinds), b"".join(x + b"\n" for x in lines), None

    def source_blocks(i: int) -> Iterator[tuple[bytes, bytes]]:
        """(kinds, lines) of each range of source i, epoch by epoch: copy k of every record in the
        k-th pass, as `mix.emit` writes them."""
        sp = plan.sources[i]
        quiet = ReadSpec(formats=specs[i].formats, opts=specs[i].opts, encoding=encoding, report_bad_rows=False)
        for epoch in range(sp.max_copies):
            def jobs() -> Iterator[tuple]:
                start = 0
                for r, n in zip(ranges[i], per_range[i]):
                    yield r, quiet, sp.mult[start:start + n].tobytes(), n, epoch, sp.name, sp.file_name
                    start += n

            for kinds, lines, error in ordered_map(emit_range, jobs(), workers):
                if error:
                    raise UsageError(f"{error}; run again")
                yield kinds, lines

    written = [0] * len(cfg.sources)
    with_reasoning = [0] * len(cfg.sources)

    def take(i: int, kind: int, line: bytes) -> None:
        if kind == REJECT:
            run.rejects.add(**orjson.loads(line))
            return
        run.writer.write_serialized(line)
        written[i] += 1
        with_reasoning[i] += kind == ROW_REASONING

    active = [i for i, sp in enumerate(plan.sources) if sp.out_records]
    if len(active) == 1:  # one source: its ranges' rows go out as blocks, in order
        i = active[0]
        for kinds, lines in source_blocks(i):
            if REJECT in kinds:
                for kind, line in zip(kinds, lines.split(b"\n")):
                    take(i, kind, line)
                continue
            run.writer.write_block(lines, len(kinds))
            written[i] += len(kinds)
            with_reasoning[i] += kinds.count(ROW_REASONING)
    elif active:
        # Several sources are interleaved copy by copy, so each is first spooled to an unnamed temp
        # file beside the output, one source (and one pool) at a time: two pools alive at once
        # would fork the second from a process running the first one's threads.
        folder = Path(run.writer.path).parent if getattr(run.writer, "path", None) else None
        with ExitStack() as stack:
            streams = [_spool(source_blocks(i), stack.enter_context(tempfile.TemporaryFile(dir=folder)))
                       if i in active else iter(()) for i in range(len(cfg.sources))]
            for i, (kind, line) in interleave(streams, [sp.out_records for sp in plan.sources]):
                take(i, kind, line)
    return plan, indexes, written, with_reasoning


def _spool(blocks: Iterator[tuple[bytes, bytes]], fh: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Write every copy to `fh` now (its kind byte, then its line), and return an iterator that
    reads the copies back in order as (kind, line)."""
    for kinds, lines in blocks:
        for kind, line in zip(kinds, lines.split(b"\n")):
            fh.write(bytes((kind,)) + line + b"\n")
    fh.seek(0)
    return ((line[0], line[1:-1]) for line in fh)
