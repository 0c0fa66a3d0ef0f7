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

RANGE_MIN, RANGE_MAX = 1 << 20, 16 << 20


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
                   file_name: str) -> tuple[list[tuple[bytes, bytes]], str | None]:
        """(kind, rendered row or reject line) of each copy of this range's records in `epoch`;
        kind b"r0"/b"r1" is a row without / with reasoning, b"x" a copy the output format rejects."""
        m = array("I")
        m.frombytes(mult)
        sink = BufferSink("mix")
        out: list[tuple[bytes, bytes]] = []
        n = 0
        for k, conv in enumerate(read_range(r, spec, RejectSink(None), ReadStats())):
            n += 1
            if k < len(m) and m[k] > epoch:
                c = tag_copy(conv, name, epoch, file_name)
                rows = render_rows([c], write, sink)
                if rows:
                    out.append((b"r1" if any(x.reasoning for x in c.messages) else b"r0", rows[0]))
                else:
                    out.append((b"x", sink.lines()[-1]))
        if n != expect:
            return [], f"source {name} changed while mixing ({r.path}: {n} valid records in a range that had {expect})"
        return out, None

    def source_copies(i: int) -> Iterator[tuple[bytes, bytes]]:
        sp = plan.sources[i]
        quiet = ReadSpec(formats=specs[i].formats, opts=specs[i].opts, encoding=encoding, report_bad_rows=False)
        for epoch in range(sp.max_copies):  # copy k of every record in the k-th pass, as `mix.emit`
            def jobs() -> Iterator[tuple]:
                start = 0
                for r, n in zip(ranges[i], per_range[i]):
                    yield r, quiet, sp.mult[start:start + n].tobytes(), n, epoch, sp.name, sp.file_name
                    start += n

            for rows, error in ordered_map(emit_range, jobs(), workers):
                if error:
                    raise UsageError(f"{error}; run again")
                yield from rows

    # One source is streamed straight from its pool. Several are interleaved, so each is first
    # spooled to an unnamed temp file beside the output, one source (and one pool) at a time: two
    # pools alive at once would fork the second from a process running the first one's threads.
    active = [i for i, sp in enumerate(plan.sources) if sp.out_records]
    with ExitStack() as stack:
        if len(active) <= 1:
            streams = [source_copies(i) if i in active else iter(()) for i in range(len(cfg.sources))]
        else:
            folder = Path(run.writer.path).parent if getattr(run.writer, "path", None) else None
            streams = [_spool(source_copies(i), stack.enter_context(tempfile.TemporaryFile(dir=folder)))
                       if i in active else iter(()) for i in range(len(cfg.sources))]
        written = [0] * len(cfg.sources)
        with_reasoning = [0] * len(cfg.sources)
        for i, (kind, data) in interleave(streams, [sp.out_records for sp in plan.sources]):
            if kind == b"x":
                run.rejects.add(**orjson.loads(data))
                continue
            run.writer.write_serialized(data)
            written[i] += 1
            with_reasoning[i] += kind == b"r1"
    return plan, indexes, written, with_reasoning


def _spool(copies: Iterator[tuple[bytes, bytes]], fh: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """Write every copy to `fh` now (kind and data on one line: orjson never writes a raw newline),
    and return an iterator that reads them back in order."""
    for kind, data in copies:
        fh.write(kind + b" " + data + b"\n")
    fh.seek(0)
    return (tuple(line.rstrip(b"\n").split(b" ", 1)) for line in fh)  # type: ignore[misc]
