"""Dedup's pass 2 over one JSON Lines range, with kept plain rows rendered by `curator.fastpath`.

Pass 2 used to parse every row into a `Conversation` (the format's `parse`) only to add "dedup"
to its lineage and render it again, which cost as much as pass 1's parse. Here a kept row that the
plain-row path recognises goes from the orjson row straight to its output bytes, with "dedup" as
the lineage step — the very bytes `KeepStage` + the format's `render` give (the plain path builds
them with the same dict operations, in the same order). Everything else — a dropped record (its
reject carries the parsed record, and in `--rejects-mode ref` its reference), a row the plain path
declines, a line orjson cannot read — takes the general path (`KeepStage` over
`tasks.parse_range_rows`), in input order, through one bound `KeepStage` whose position survives
between calls. `tests/test_dedup_keep.py` compares the two routes byte for byte.
"""

from __future__ import annotations

import io as _io
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

from curator.engine.dedup_tasks import KeepStage
from curator.engine.ranges import Range
from curator.engine.tasks import (BufferSink, Lineage, RangeOutput, ReadSpec, WriteSpec, parse_range_rows, plain_path,
                                  range_bytes, render_rows, run_range)
from curator.errors import UsageError
from curator.io import RawRow, ReadStats, jsonl_row
from curator.rejects import RejectSink
from curator.validate import line_is_clean

STEP = "dedup"  # the lineage step `KeepStage` adds to a kept record


def keep_range(read: ReadSpec, write: WriteSpec, r: Range, payload: bytes) -> tuple[list[str], list[bytes]]:
    """`tasks.run_range("dedup", read, KeepStage(), write, r, payload)`, with the same results, and
    kept plain rows of a JSON Lines range rendered without a `Conversation`."""
    plain = plain_path(Lineage(STEP), read.formats.get(r.path), read, write, Path(r.path).name)
    if plain is None or r.kind != "jsonl":
        return run_range("dedup", read, KeepStage(), write, r, payload)
    try:
        return _keep_lines(read, write, r, KeepStage().bind(payload), plain).pack()
    except UsageError as e:  # an input that changed between the passes: the driver stops with this
        return RangeOutput([], [], usage_error=str(e)).pack()


def _keep_lines(read: ReadSpec, write: WriteSpec, r: Range, stage: KeepStage, plain: Any) -> RangeOutput:
    sink = BufferSink("dedup")
    quiet = RejectSink(None)  # pass 2 reports no bad rows: pass 1 rejected them
    stats = ReadStats()
    counts: Counter[str] = Counter()
    rows: list[bytes] = []
    drops = stage.drops or {}
    skip = stage.skip
    pending: list[RawRow] = []
    kept = 0

    def general(raws: Iterable[RawRow]) -> Iterator[bytes]:
        nonlocal kept
        for conv in stage(parse_range_rows(raws, r, read, quiet, stats), sink.reject, counts):
            kept += 1
            yield from render_rows([conv], write, sink)

    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for i, line in enumerate(_io.BytesIO(range_bytes(r)), r.first):
        if i in skip:  # rejected by pass 1; the general path reads it (a row) but yields no record
            stats.rows += 1
            continue
        try:
            row = loads(line)
        except decode_error:  # a blank line, a byte-order mark, bad JSON: as `io._iter_jsonl` reads it
            raw = jsonl_row(line, i, None)
            if raw is not None:
                pending.append(raw)
            continue
        if type(row) is dict and type(row.get("id")) is float:  # an id past 64 bits, read exactly
            raw = jsonl_row(line, i, None)
            if raw is not None:
                pending.append(raw)
            continue
        clean = line_is_clean(line)
        # each row left after `skip` is one record; this one's index in the range:
        index = stage.pos + 1 + len(pending)
        res = None if index in drops else plain(row, clean, line)
        if res is None:
            pending.append(RawRow(i, row, None, None, clean))
            continue
        if pending:
            rows.extend(general(pending))
            pending = []
            if stage.pos != index - 1:  # a row read differently from pass 1
                raise UsageError(f"{r.path}: changed while dedup was reading it (line {i}); run again")
        stats.rows += 1
        kept += 1
        stage.pos = index
        counts["records"] += 1
        rows.append(res)
    if pending:
        rows.extend(general(pending))
    stats_line = orjson.dumps({"rows": stats.rows, "kept": kept, "counts": dict(counts)})
    return RangeOutput(rows, sink.lines(), stats_line)
