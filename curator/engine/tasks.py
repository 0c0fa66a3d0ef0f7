"""What one Ray task runs over one input range — the local engine's own functions, nothing new.

`RangeTask` is the callable handed to `Dataset.map_batches`: for each range it reads raw rows
(`curator.io` readers), parses and validates them (`curator.io.parse_rows`), applies the stage's
pure per-batch function, renders the survivors with the output format's `render`, and returns an
Arrow table of serialised results in input order:

    kind = "rows"    data = how many rows (8 bytes, little-endian), then the rendered output rows of
                     the range (orjson), each ending in a newline: one piece per range, so the
                     driver makes one write, not one per row, and never scans the rows
    kind = "reject"  data = one line of `<out>.rejects.jsonl`, byte for byte what the local sink writes
    kind = "stats"   data = {"rows": rows read, "counts": stage counters} (one per range)
    kind = "usage_error"  data = the message of a `UsageError` the stage raised (the driver re-raises it)

Everything crosses the wire as bytes, so Arrow never has to infer a schema for free-form records.
"""

from __future__ import annotations

import io as _io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

import orjson

from curator.engine.filter_plain import FilterRoute, provable
from curator.engine.ranges import Range
from curator.errors import RowError, UsageError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions, get_format
from curator.fastpath import PlainPath
from curator.io import RawRow, ReadStats, _is_utf8, _iter_jsonl, iter_rows, jsonl_row, parse_rows
from curator.validate import line_is_clean
from curator.record import Conversation
from curator.rejects import RejectSink

RejectFn = Callable[[Conversation, str, str], None]


class Stage(Protocol):
    """A stage as the engine maps it: records of one range stream in, survivors stream out; drops go
    through `reject`, counters (for the manifest) into `counts`. Streaming keeps the local order of
    rejects; a stage that works on batches cuts the stream into batches itself."""

    def __call__(self, convs: Iterator[Conversation], reject: RejectFn, counts: Counter) -> Iterator[Conversation]: ...


@dataclass(frozen=True)
class Lineage:
    """convert: the record passes through with the step added to its lineage."""

    step: str

    def __call__(self, convs, reject, counts):
        for c in convs:
            c.add_lineage(self.step)
            yield c


@dataclass(frozen=True)
class Identity:
    """validate: reading and validating is the whole stage."""

    def __call__(self, convs, reject, counts):
        return convs


@dataclass(frozen=True)
class Score:
    """score with rule rubrics: `curator.score.score_records`, rubrics loaded once per worker."""

    refs: tuple[str, ...]
    batch_size: int = 64

    def __call__(self, convs, reject, counts):
        from curator.score import score_records

        return score_records(convs, _rubrics(self.refs), reject=reject, batch_size=self.batch_size, counts=counts)


_RUBRIC_CACHE: dict[tuple[str, ...], Any] = {}


def _rubrics(refs: tuple[str, ...]) -> Any:
    if refs not in _RUBRIC_CACHE:
        from rubrics.load import load_rubric

        _RUBRIC_CACHE[refs] = [load_rubric(r) for r in refs]
    return _RUBRIC_CACHE[refs]


@dataclass(frozen=True)
class Filter:
    """filter: the `FilterChain` over each record, built once per worker from the filter-chain items
    (the same items the driver built its chain from). Batches of `FILTER_BATCH` records go
    through `FilterChain.check_many` (the batch screens, same verdicts as `check`), and the
    results are emitted record by record, so the rejects come out in input order however the
    input is cut into ranges or batches. Rejects carry
    `filter=<label>` as the local command's do; counters (summed by the driver into the manifest):
    `dropped<SEP>label`, `code<SEP>label<SEP>code`, `masked` — read back with `Filter.tally`."""

    items_json: bytes  # orjson of [(name, params), ...]
    where: str = "filters"
    recheck_reviewed: bool = False

    def __call__(self, convs, reject, counts):
        chain = _chain(self.items_json, self.where)
        sink = getattr(reject, "__self__", None)
        sink = sink if isinstance(sink, RejectSink) else None
        for batch, held in _batches(convs, FILTER_BATCH, sink):
            # A human decision outranks a heuristic: a record accepted in review is not dropped again.
            reviewed = [not self.recheck_reviewed and _reviewed_accepted(c) for c in batch]
            checked = iter(chain.check_many([c for c, r in zip(batch, reviewed) if not r]))
            for j, (conv, was_reviewed) in enumerate(zip(batch, reviewed)):
                while held and held[0][0] <= j:  # the reader's rejects of rows before this record
                    _replay(sink, held.pop(0)[1])
                if was_reviewed:
                    counts["kept_reviewed"] += 1
                    conv.add_lineage("filter:reviewed")
                    yield conv
                    continue
                kept = self.settle(conv, *next(checked), reject, counts)
                if kept is not None:
                    yield kept
            for _, entries in held:
                _replay(sink, entries)

    @staticmethod
    def settle(conv: Conversation, kept: Conversation, dropped: Any, reject: RejectFn,
               counts: Counter) -> Conversation | None:
        """The chain's verdict on `conv` (`FilterChain.check`: the record to keep, or the drop)
        carried out: counted, a drop rejected, a kept record returned with "filter" in its lineage."""
        if dropped is not None:
            counts[f"dropped{SEP}{dropped.filter}"] += 1
            counts[f"code{SEP}{dropped.filter}{SEP}{dropped.code}"] += 1
            # the record as it came in, not a half-masked copy
            reject(conv, dropped.code, dropped.message, filter=dropped.filter)  # type: ignore[call-arg]
            return None
        if "pii_masked" in kept.meta:
            counts["masked"] += 1
        kept.meta.pop("rejected", None)  # read from a rejects file, it passes now: the old verdict is void
        kept.add_lineage("filter")
        return kept

    @staticmethod
    def tally(counts: Counter) -> tuple[Counter, dict[str, Counter], int]:
        """The stage's counters as the manifest reports them: records dropped per filter label,
        reason codes per label, and records whose PII was masked."""
        dropped_by: Counter[str] = Counter()
        codes_by: dict[str, Counter[str]] = {}
        for key, n in counts.items():
            parts = key.split(SEP)
            if parts[0] == "dropped":
                dropped_by[parts[1]] += n
            elif parts[0] == "code":
                codes_by.setdefault(parts[1], Counter())[parts[2]] += n
        return dropped_by, codes_by, counts.get("masked", 0)


FILTER_BATCH = 1024  # records per batch screen: big enough to pay for the array passes


def _batches(items: Iterator[Any], size: int, sink: RejectSink | None) -> Iterator[tuple[list[Any], list]]:
    """Batches of `size` items, each with the rejects the reader made while it was read, held
    back (`RejectSink.held`) and tagged with how many of the batch's items came before them, so
    the stage replays them in input order among its own rejects."""
    it = iter(items)
    while True:
        batch: list[Any] = []
        held: list[tuple[int, list]] = []
        if sink is not None:
            sink.held = []
        try:
            for x in it:
                if sink is not None and sink.held:
                    held.append((len(batch), sink.held))
                    sink.held = []
                batch.append(x)
                if len(batch) >= size:
                    break
        finally:
            if sink is not None:
                if sink.held:
                    held.append((len(batch), sink.held))
                sink.held = None
        if not batch and not held:
            return
        yield batch, held
        if len(batch) < size:
            return


def _replay(sink: RejectSink, entries: list) -> None:
    for reason, message, kw in entries:
        sink.add(reason, message, **kw)


def _reviewed_accepted(conv: Any) -> bool:
    """A reviewer accepted this record (`curate review export` writes meta.review.status)."""
    rv = conv.meta.get("review")
    return isinstance(rv, dict) and rv.get("status") == "accepted"


SEP = "\x1f"  # joins parts of a counter key; never in a filter label or reason code
_CHAIN_CACHE: dict[tuple[bytes, str], Any] = {}


def _chain(items_json: bytes, where: str) -> Any:
    key = (items_json, where)
    if key not in _CHAIN_CACHE:
        from curator.filters import build_chain

        _CHAIN_CACHE[key] = build_chain([(n, dict(p)) for n, p in orjson.loads(items_json)], where)
    return _CHAIN_CACHE[key]


@dataclass(frozen=True)
class ReadSpec:
    """How to read: the format per input label (detected once by the driver), options, allowed codes."""

    formats: dict[str, str]
    opts: ReadOptions = DEFAULT_READ
    encoding: str | None = None
    allow: tuple[str, ...] = ()
    validate: bool = True
    report_bad_rows: bool = True  # False on a second pass: its bad rows were rejected by the first


@dataclass(frozen=True)
class WriteSpec:
    fmt: str = "messages"
    opts: WriteOptions = DEFAULT_WRITE


class BufferSink(RejectSink):
    """A `RejectSink` that keeps its lines in memory: the task's rejects, shipped to the driver."""

    def __init__(self, stage: str):
        super().__init__(None, stage=stage)
        self._fh = _io.BytesIO()

    def lines(self) -> list[bytes]:
        return self._fh.getvalue().splitlines()  # type: ignore[union-attr]

    def take(self) -> list[bytes]:
        """The lines written since the last `take`, which leave the buffer: a task that ships each
        reject as it is made (mix's copies) reads one line, not every line so far, each time."""
        lines = self.lines()
        self._fh = _io.BytesIO()
        return lines


def range_bytes(r: Range) -> bytes:
    """The bytes of a JSON Lines range."""
    with open(r.file(), "rb") as fh:
        fh.seek(r.start)
        return fh.read(r.end - r.start)


def raw_rows(r: Range, encoding: str | None) -> Iterator[RawRow]:
    """The raw rows of one range, numbered as the local reader numbers them."""
    if r.kind == "jsonl":
        yield from _iter_jsonl(_io.BytesIO(range_bytes(r)), encoding, start=r.first)
    elif r.kind == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(r.file())
        n = r.first
        for g in range(r.start, r.end):
            for row in pf.read_row_group(g).to_pylist():
                yield RawRow(n, row)
                n += 1
    else:
        yield from iter_rows(r.file(), encoding)


def read_range(r: Range, spec: ReadSpec, sink: RejectSink, stats: ReadStats) -> Iterator[Conversation]:
    """Parsed, validated records of one range (streamed); bad rows go to `sink`."""
    return parse_range_rows(raw_rows(r, spec.encoding), r, spec, sink, stats)


def parse_range_rows(raws: Iterable[RawRow], r: Range, spec: ReadSpec, sink: RejectSink,
                     stats: ReadStats) -> Iterator[Conversation]:
    """`parse_rows` over raw rows of range `r` (all of them, or the ones the plain path left)."""
    fmt = spec.formats.get(r.path)
    module = get_format(fmt) if fmt else None
    return iter(parse_rows(raws, module, label=r.path, name=Path(r.path).name, opts=spec.opts, rejects=sink,
                           allow=spec.allow, validate=spec.validate, stats=stats))


def render_rows(convs: list[Conversation], spec: WriteSpec, sink: RejectSink) -> list[bytes]:
    """Rendered output rows; a record the format cannot hold is rejected as `RecordWriter.write` does."""
    module = get_format(spec.fmt)
    out = []
    for conv in convs:
        try:
            out.append(orjson.dumps(module.render(conv, spec.opts)))
        except RowError as e:
            sink.reject(conv, e.code, f"cannot write as {module.NAME}: {e.sentence()}")
    return out


def plain_ok(stage: Any, opts: ReadOptions, encoding: str | None, write: WriteSpec | None) -> bool:
    """Can rows of this stage take the plain-row path (`curator.fastpath`)? Only convert's `Lineage`,
    validate's `Identity` and filter's `Filter` (`filter_route`), with no column mapping, UTF-8
    input, and either no output or canonical messages with the reasoning in its field."""
    if not isinstance(stage, (Lineage, Identity, Filter)) or opts.mapping or not _is_utf8(encoding):
        return False
    return write is None or (get_format(write.fmt).NAME == "messages" and not write.opts.strip_meta
                             and write.opts.reasoning in ("auto", "field"))


def plain_path(stage: Any, fmt: str | None, read: ReadSpec, write: WriteSpec | None, name: str) -> PlainPath | None:
    """The plain-row path for this stage and an input of format `fmt` (Alpaca or canonical
    messages), or None where only the general path runs."""
    if fmt not in ("alpaca", "messages") or isinstance(stage, Filter) or not plain_ok(stage, read.opts, read.encoding,
                                                                                     write):
        return None
    step = stage.step if isinstance(stage, Lineage) else None
    return PlainPath(fmt, name=name, opts=read.opts, step=step, render=write is not None)


def filter_route(stage: Any, fmt: str | None, read: ReadSpec, write: WriteSpec | None, r: Range) -> FilterRoute | None:
    """Filter's plain-row route (`curator.engine.filter_plain`) for range `r`, or None where only
    the general path runs: not a `Filter`, not a JSON Lines range of Alpaca or canonical messages,
    another output, or a chain whose screens can prove nothing."""
    if (not isinstance(stage, Filter) or r.kind != "jsonl" or fmt not in ("alpaca", "messages") or write is None
            or not plain_ok(stage, read.opts, read.encoding, write)):
        return None
    chain = _chain(stage.items_json, stage.where)
    if not provable(chain):
        return None
    return FilterRoute(stage, chain, fmt, read.opts, r.path, Path(r.path).name)


class _InOrder:
    """Plain-path rows and runs of other rows back into input order: each run of other rows goes
    through `general` (the per-record path) as one batch, just before the next plain row."""

    def __init__(self, general: Callable[[list[RawRow]], Iterator[bytes]], out: list[bytes]):
        self.general, self.out = general, out
        self.pending: list[RawRow] = []
        self.plain_rows = 0

    def other(self, raw: RawRow) -> None:
        self.pending.append(raw)

    def plain(self, res: bytes) -> None:
        if self.pending:
            self.out.extend(self.general(self.pending))
            self.pending = []
        self.plain_rows += 1
        if res:  # b"" = a plain row the stage dropped
            self.out.append(res)

    def finish(self, stats: ReadStats) -> int:
        if self.pending:
            self.out.extend(self.general(self.pending))
            self.pending = []
        stats.rows += self.plain_rows
        return self.plain_rows


def _plain_then_general(raws: Iterable[RawRow], plain: PlainPath, general: Callable[[list[RawRow]], Iterator[bytes]],
                        stats: ReadStats, out: list[bytes]) -> int:
    """Rows in input order into `out`: plain rows through `plain`, each run of other rows through
    `general`; returns how many rows the plain path took."""
    runs = _InOrder(general, out)
    for raw in raws:
        row = plain(raw.row, raw.clean) if raw.error is None else None
        if row is None:
            runs.other(raw)
        else:
            runs.plain(row)
    return runs.finish(stats)


def _plain_lines(data: bytes, first: int, plain: PlainPath, general: Callable[[list[RawRow]], Iterator[bytes]],
                 stats: ReadStats, out: list[bytes]) -> int:
    """`_plain_then_general` over the UTF-8 JSON Lines of one range, without a `RawRow` per line:
    a line orjson parses is offered to the plain path with its `line_is_clean` screen, as
    `io._iter_jsonl` would screen it; every other line becomes the raw row `_iter_jsonl` makes."""
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    runs = _InOrder(general, out)
    for i, line in enumerate(_io.BytesIO(data), first):
        try:
            row = loads(line)
            unparsed = type(row) is dict and type(row.get("id")) is float  # an id past 64 bits, read exactly
        except decode_error:  # a blank line, a byte-order mark, bad JSON: as _iter_jsonl reads it
            unparsed = True
        if unparsed:
            raw = jsonl_row(line, i, None)
            if raw is not None:
                runs.other(raw)
            continue
        clean = line_is_clean(line)
        res = plain(row, clean, line)
        if res is None:
            runs.other(RawRow(i, row, None, None, clean))
        else:
            runs.plain(res)
    return runs.finish(stats)


@dataclass
class RangeOutput:
    """What one range gives: output rows (rendered, serialised, in input order), reject lines,
    the stats line, or the message of a `UsageError` the stage raised."""

    rows: list[bytes]
    rejects: list[bytes]
    stats: bytes = b""
    usage_error: str | None = None

    def pack(self) -> tuple[list[str], list[bytes]]:
        """The (kind, data) results as both engines ship them (see the module docstring)."""
        if self.usage_error is not None:
            return ["usage_error"], [self.usage_error.encode("utf-8")]
        kinds: list[str] = []
        datas: list[bytes] = []
        if self.rows:
            rows = self.rows
            rows[0] = len(rows).to_bytes(8, "little") + rows[0]
            rows.append(b"")
            kinds.append("rows")
            datas.append(b"\n".join(rows))
        kinds += ["reject"] * len(self.rejects) + ["stats"]
        datas += self.rejects + [self.stats]
        return kinds, datas


def run_range(command: str, read: ReadSpec, stage: Any, write: WriteSpec | None, r: Range,
              payload: Any = None) -> tuple[list[str], list[bytes]]:
    """One range through read -> stage -> render: the (kind, data) results in input order, as both
    engines ship them (Ray as an Arrow table, the local process pool over a pipe). `payload` binds
    a per-range argument to the stage (dedup's pass 2: which records of this range to drop)."""
    return process_range(command, read, stage, write, r, payload).pack()


def process_range(command: str, read: ReadSpec, stage: Any, write: WriteSpec | None, r: Range,
                  payload: Any = None) -> RangeOutput:
    """`run_range` before packing: the local pool writes the rows into shared memory itself."""
    sink = BufferSink(command)
    read_sink = sink if read.report_bad_rows else RejectSink(None)
    stats = ReadStats()
    counts: Counter[str] = Counter()
    rows: list[bytes] = []
    kept = 0
    bound = stage if payload is None else stage.bind(payload)

    def numbered(raws: Iterable[RawRow]) -> Iterator[tuple[int, bytes]]:
        """The stage's records of `raws`, rendered, with their line numbers."""
        nonlocal kept
        for conv in bound(parse_range_rows(raws, r, read, read_sink, stats), sink.reject, counts):
            kept += 1
            if write is not None:
                for row in render_rows([conv], write, sink):
                    yield conv.origin[1], row  # type: ignore[index]

    def general(raws: Iterable[RawRow]) -> Iterator[bytes]:
        for _, row in numbered(raws):
            yield row

    try:
        fmt = read.formats.get(r.path)
        plain = plain_path(stage, fmt, read, write, Path(r.path).name)
        route = filter_route(stage, fmt, read, write, r) if plain is None else None
        if route is not None:
            took, passed = route.lines(range_bytes(r), r.first, numbered, sink.reject, counts,
                                       lambda conv: render_rows([conv], write, sink), rows)  # type: ignore[arg-type]
            stats.rows += took
            kept += passed
        elif plain is None:
            rows.extend(general(raw_rows(r, read.encoding)))
        else:
            # (not `kept += ...`: `general` counts its own records into `kept` meanwhile)
            if r.kind == "jsonl":
                took = _plain_lines(range_bytes(r), r.first, plain, general, stats, rows)
            else:
                took = _plain_then_general(raw_rows(r, read.encoding), plain, general, stats, rows)
            kept += took
    except UsageError as e:
        # a user mistake found on a worker (a user filter that raises): the driver stops with this
        # message and exit code 2, as an in-process run does, not with a worker's traceback
        return RangeOutput([], [], usage_error=str(e))
    stats_line = orjson.dumps({"rows": stats.rows, "kept": kept, "counts": dict(counts)})
    return RangeOutput(rows if write is not None else [], sink.lines(), stats_line)


@dataclass
class RangeTask:
    """`map_batches` callable: a batch of serialised ranges in, an Arrow table of results out."""

    command: str
    read: ReadSpec
    stage: Any
    write: WriteSpec | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        kinds: list[str] = []
        datas: list[bytes] = []
        ranges = _column(batch, "range")
        payloads = _column(batch, "payload") if _has(batch, "payload") else [None] * len(ranges)
        for item, payload in zip(ranges, payloads):
            k, d = run_range(self.command, self.read, self.stage, self.write, Range(**orjson.loads(item)), payload)
            kinds.extend(k)
            datas.extend(d)
        return pa.table({"kind": pa.array(kinds, pa.string()), "data": pa.array(datas, pa.binary())})


def _has(batch: Any, name: str) -> bool:
    return name in (batch.column_names if hasattr(batch, "column_names") else batch)


def _column(batch: Any, name: str) -> list[Any]:
    col = batch[name]
    return col.to_pylist() if hasattr(col, "to_pylist") else list(col)
