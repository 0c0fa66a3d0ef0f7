"""What one Ray task runs over one input range — the local engine's own functions, nothing new.

`RangeTask` is the callable handed to `Dataset.map_batches`: for each range it reads raw rows
(`curator.io` readers), parses and validates them (`curator.io.parse_rows`), applies the stage's
pure per-batch function, renders the survivors with the output format's `render`, and returns an
Arrow table of serialised results in input order:

    kind = "row"     data = the rendered output row (orjson)
    kind = "reject"  data = one line of `<out>.rejects.jsonl`, byte for byte what the local sink writes
    kind = "stats"   data = {"rows": rows read, "counts": stage counters} (one per range)

Everything crosses the wire as bytes, so Arrow never has to infer a schema for free-form records.
"""

from __future__ import annotations

import io as _io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

import orjson

from curator.engine.ranges import Range
from curator.errors import RowError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions, get_format
from curator.io import RawRow, ReadStats, _iter_jsonl, iter_rows, parse_rows
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
class ReadSpec:
    """How to read: the format per input label (detected once by the driver), options, allowed codes."""

    formats: dict[str, str]
    opts: ReadOptions = DEFAULT_READ
    encoding: str | None = None
    allow: tuple[str, ...] = ()
    validate: bool = True


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


def raw_rows(r: Range, encoding: str | None) -> Iterator[RawRow]:
    """The raw rows of one range, numbered as the local reader numbers them."""
    if r.kind == "jsonl":
        with open(r.file(), "rb") as fh:
            fh.seek(r.start)
            data = fh.read(r.end - r.start)
        yield from _iter_jsonl(_io.BytesIO(data), encoding, start=r.first)
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
    from pathlib import Path

    fmt = spec.formats.get(r.path)
    module = get_format(fmt) if fmt else None
    return iter(parse_rows(raw_rows(r, spec.encoding), module, label=r.path, name=Path(r.path).name,
                           opts=spec.opts, rejects=sink, allow=spec.allow, validate=spec.validate, stats=stats))


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
        for item in _column(batch, "range"):
            r = Range(**orjson.loads(item))
            sink = BufferSink(self.command)
            stats = ReadStats()
            counts: Counter[str] = Counter()
            rows: list[bytes] = []
            kept = 0
            for conv in self.stage(read_range(r, self.read, sink, stats), sink.reject, counts):
                kept += 1
                if self.write is not None:
                    rows.extend(render_rows([conv], self.write, sink))
            for b in rows:
                kinds.append("row")
                datas.append(b)
            for line in sink.lines():
                kinds.append("reject")
                datas.append(line)
            kinds.append("stats")
            datas.append(orjson.dumps({"rows": stats.rows, "kept": kept, "counts": dict(counts)}))
        return pa.table({"kind": pa.array(kinds, pa.string()), "data": pa.array(datas, pa.binary())})


def _column(batch: Any, name: str) -> list[Any]:
    col = batch[name]
    return col.to_pylist() if hasattr(col, "to_pylist") else list(col)
