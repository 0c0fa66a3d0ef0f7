"""Dedup's two passes over one JSON Lines range with plain rows kept off the general path.

Both passes used to parse every row into a `Conversation` (the format's `parse`, then validation):
pass 1 only to take its texts, id and score for the sketch, pass 2 only to add "dedup" to its
lineage and render it again. Here a row that the plain-row path (`curator.fastpath`) recognises —
a row it has checked is certainly good, by the rules `validate.check` applies — skips that:

- pass 1 (`range_fields`): its (prompt, answer) texts, id and meta come from the plain path's turns
  (`PlainTurns`), the same values `record_texts` / `record_score` take from the `Conversation`;
- pass 2 (`keep_range`): a kept row goes from the orjson row straight to its output bytes, with
  "dedup" as the lineage step — the very bytes `KeepStage` + the format's `render` give.

Everything else — a dropped record on pass 2 (its reject carries the parsed record, and with
`--rejects-mode ref` its reference), a row the plain path declines, a line orjson cannot read —
takes the general path (`tasks.parse_range_rows`), in input order; on pass 2 through one bound
`KeepStage` whose position survives between calls. `tests/test_dedup_plain.py` compares the two
routes on real data and hostile rows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

from curator.dedup import DedupConfig, record_fields, texts_fields
from curator.engine.dedup_keep import KeepStage, RangeLines
from curator.engine.ranges import Range
from curator.engine.tasks import (BufferSink, Identity, Lineage, RangeOutput, ReadSpec, WriteSpec, parse_range_rows,
                                  plain_ok, plain_path, range_bytes, read_range, render_rows, run_range)
from curator.errors import UsageError
from curator.fastpath import PlainPath, json_lines, turns_id
from curator.io import RawRow, ReadStats
from curator.rejects import RejectSink

STEP = "dedup"  # the lineage step `KeepStage` adds to a kept record


# ----------------------------------------------------------------------------------- pass 1
class PlainTurns(PlainPath):
    """The plain-row path stopped before rendering: (id, turns, meta) of a certainly good row."""

    def __init__(self, fmt: str, *, name: str, opts: Any):
        super().__init__(fmt, name=name, opts=opts, step=None, render=False)

    def _finish(self, rid: str, turns: list[tuple[str, str, str | None]], meta: dict[str, Any]) -> Any:
        return rid or turns_id(turns), turns, meta


class PlainRecord(PlainPath):
    """(id, record bytes) of a certainly good row: the bytes `orjson.dumps(conv.to_dict())` gives for
    the `Conversation` the general path would build (no lineage step), for a dropped row's reject."""

    def __init__(self, fmt: str, *, name: str, opts: Any):
        super().__init__(fmt, name=name, opts=opts, step=None, render=True)

    def _finish(self, rid: str, turns: list[tuple[str, str, str | None]], meta: dict[str, Any]) -> Any:
        data = super()._finish(rid, turns, meta)
        return rid or turns_id(turns), data


def range_fields(r: Range, spec: ReadSpec, sink: RejectSink, stats: ReadStats,
                 cfg: DedupConfig) -> Iterator[tuple[str, Any, tuple[tuple[str, str], int, float]]]:
    """(id, origin, `record_fields`) of each valid record of range `r`, in input order; bad rows go
    to `sink` (as `read_range` rejects them)."""
    fmt = spec.formats.get(r.path)
    if r.kind != "jsonl" or fmt not in ("alpaca", "messages") or not plain_ok(Identity(), spec.opts, spec.encoding,
                                                                               None):
        for conv in read_range(r, spec, sink, stats):
            yield conv.id, conv.origin, record_fields(conv, cfg)
        return
    plain = PlainTurns(fmt, name=Path(r.path).name, opts=spec.opts)
    pending: list[RawRow] = []

    def general(raws: Iterable[RawRow]):
        for conv in parse_range_rows(raws, r, spec, sink, stats):
            yield conv.id, conv.origin, record_fields(conv, cfg)

    for i, line, row, clean in json_lines(range_bytes(r), r.first):
        res = None if type(row) is RawRow else plain(row, clean, line)
        if res is None:
            pending.append(row if type(row) is RawRow else RawRow(i, row, None, None, clean))
            continue
        if pending:
            yield from general(pending)
            pending = []
        stats.rows += 1
        rid, turns, meta = res
        prompt = "\n".join([c for role, c, _ in turns if role != "assistant" and c])
        answer = "\n".join([c for role, c, _ in turns if role == "assistant" and c])
        yield rid, (r.path, i), texts_fields((prompt, answer), meta, cfg)
    if pending:
        yield from general(pending)


# ----------------------------------------------------------------------------------- pass 2
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

    record = PlainRecord(read.formats[r.path], name=Path(r.path).name, opts=read.opts)
    for i, line, row, clean in json_lines(range_bytes(r), r.first):
        if i in skip:  # rejected by pass 1; the general path reads it (a row) but yields no record
            stats.rows += 1
            continue
        # each row left after `skip` is one record; this one's index in the range:
        index = stage.pos + 1 + len(pending)
        drop = drops.get(index)
        if type(row) is RawRow:
            res = None
        else:  # a kept row's output, or a dropped row's (id, record) for its reject line
            res = plain(row, clean, line) if drop is None else record(row, clean, line)
        if res is None:
            pending.append(row if type(row) is RawRow else RawRow(i, row, None, None, clean))
            continue
        if pending:
            rows.extend(general(pending))
            pending = []
            if stage.pos != index - 1:  # a row read differently from pass 1
                raise UsageError(f"{r.path}: changed while dedup was reading it (line {i}); run again")
        stats.rows += 1
        stage.pos = index
        counts["records"] += 1
        if drop is None:
            kept += 1
            rows.append(res)
        else:
            _reject(sink, stage, r.path, i, res, drop)
    if pending:
        rows.extend(general(pending))
    stats_line = orjson.dumps({"rows": stats.rows, "kept": kept, "counts": dict(counts)})
    return RangeOutput(rows, sink.lines(), stats_line)


def _reject(sink: RejectSink, stage: KeepStage, path: str, line: int, rec: tuple[str, bytes], drop: list) -> None:
    """The reject line `KeepStage` writes for a dropped record (`RejectSink.reject`), from the plain
    path's (id, record bytes): ~6x cheaper than parsing the row into a `Conversation` first, and a
    1 GB dedup drops ~190k records."""
    rid, record_json = rec
    want, reason, message, extra = drop
    if rid != want:
        raise UsageError(f"{path}: changed while dedup was reading it (record {rid!r} where {want!r} was); run again")
    where = f"{path}:{line}: "
    message = message if message.startswith(where) else where + message
    if stage.ref and reason != "conflict":  # `--rejects-mode ref`: a reference instead of the record
        if stage.lines is None:
            stage.lines = RangeLines(Range(**stage.ref["range"]))
        extra = {**extra, "ref": stage.lines.ref(line, stage.ref.get("format"))}
        sink.add(reason, message, record=None, source=path, line=line, id=rid, **extra)
    else:
        sink.add_serialised(reason, message, record_json, source=path, line=line, id=rid, **extra)
