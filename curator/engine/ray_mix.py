"""`curate mix --engine ray`: the sources are read, parsed, validated and rendered on Ray workers;
every sampling decision is the local engine's, made on the driver.

1. **Index** (Ray, `IndexTask` over each source's ranges): per record `curator.mix.index_fields`
   (weight in tokens mode, stratum label). The driver appends them in range order with
   `index_add`, so each `SourceIndex` — and therefore `plan_mix` with its seeded RNG — is exactly
   the local one.
2. **Plan** (driver): `curator.mix.plan_mix`, unchanged: same shares, targets, multiplicities.
3. **Emit** (Ray, `EmitTask` over the same ranges, each given its slice of the multiplicities):
   workers tag every copy (`tag_copy`, copy k of a record in epoch k) and render it; the driver
   walks the rendered copies source by source, epoch by epoch, in `curator.mix.interleave` order —
   the order `emit` writes locally — so the output is byte-identical for the same seed.
   Each source's rendered copies are materialised in Ray's object store (spilled to disk when it
   is full) while the driver interleaves them; the driver holds one block at a time.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import orjson

from curator.engine.ranges import Range
from curator.engine.ray_run import all_ranges, connect, detect_formats
from curator.engine.tasks import BufferSink, ReadSpec, WriteSpec, read_range
from curator.errors import RowError, UsageError
from curator.io import ReadStats

CHANGED = "changed while mixing"
_COUNTERS: dict[str | None, Any] = {}


def _counter(tokenizer: str | None) -> Any:
    if tokenizer not in _COUNTERS:
        from curator.tokencount import load_counter

        _COUNTERS[tokenizer] = load_counter(tokenizer)
    return _COUNTERS[tokenizer]


@dataclass
class IndexTask:
    """Pass 1 over one range: (weight, stratum label) per valid record, and the bad rows' rejects."""

    read: ReadSpec
    by: str
    tokenizer: str | None
    stratify: str | None

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        from curator.mix import index_fields

        count = _counter(self.tokenizer) if self.by == "tokens" else (lambda t: 0)
        out: dict[str, list] = {"range_no": [], "rows": [], "fields": [], "rejects": []}
        for no, item in zip(_col(batch, "range_no"), _col(batch, "range")):
            r = Range(**orjson.loads(item))
            sink, stats = BufferSink("mix"), ReadStats()
            fields = [index_fields(c, by=self.by, count=count, stratify=self.stratify)
                      for c in read_range(r, self.read, sink, stats)]
            out["range_no"].append(int(no))
            out["rows"].append(stats.rows)
            out["fields"].append(orjson.dumps(fields))
            out["rejects"].append(b"\n".join(sink.lines()))
        return pa.table({"range_no": pa.array(out["range_no"], pa.int64()), "rows": pa.array(out["rows"], pa.int64()),
                         "fields": pa.array(out["fields"], pa.large_binary()),
                         "rejects": pa.array(out["rejects"], pa.large_binary())})


@dataclass
class EmitTask:
    """Pass 2 over one range: every planned copy of its records, tagged and rendered, with its epoch.

    kind "row" (data: the rendered row; reasoning: 1 when the record has reasoning) or "reject" (a
    copy the output format cannot hold, rejected as `RecordWriter.write` rejects it)."""

    read: ReadSpec
    write: WriteSpec
    name: str
    file_name: str

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        from curator.formats import get_format
        from curator.mix import tag_copy

        module = get_format(self.write.fmt)
        cols: dict[str, list] = {"epoch": [], "kind": [], "reasoning": [], "data": []}
        for item, mult_b, expect in zip(_col(batch, "range"), _col(batch, "mult"), _col(batch, "expect")):
            r = Range(**orjson.loads(item))
            mult = array("I")
            mult.frombytes(mult_b)
            sink = BufferSink("mix")
            n = 0
            for k, conv in enumerate(read_range(r, self.read, _quiet(), ReadStats())):
                n += 1
                for epoch in range(mult[k] if k < len(mult) else 0):
                    c = tag_copy(conv.copy(), self.name, epoch, self.file_name)
                    try:
                        data, kind = orjson.dumps(module.render(c, self.write.opts)), "row"
                    except RowError as e:
                        sink.reject(c, e.code, f"cannot write as {module.NAME}: {e.sentence()}")
                        data, kind = sink.take()[-1], "reject"
                    cols["epoch"].append(epoch)
                    cols["kind"].append(kind)
                    cols["reasoning"].append(int(any(m.reasoning for m in c.messages)))
                    cols["data"].append(data)
            if n != int(expect):
                raise UsageError(f"{CHANGED} ({r.path}: {n} valid records in a range that had {expect})")
        return pa.table({"epoch": pa.array(cols["epoch"], pa.int32()), "kind": pa.array(cols["kind"], pa.string()),
                         "reasoning": pa.array(cols["reasoning"], pa.int8()),
                         "data": pa.array(cols["data"], pa.large_binary())})


def _quiet() -> Any:
    from curator.rejects import RejectSink

    return RejectSink(None)


def run_mix_ray(run: Any, cfg: Any, *, encoding: str | None, address: str | None, out_format: str,
                write_opts: Any) -> tuple[Any, list, list[int], list[int]]:
    """Index, plan and emit on Ray, writing through `run`. Returns (plan, indexes, written,
    with_reasoning) for the command's composition table."""
    import ray.data

    from curator.mix import SourceIndex, index_add, interleave, plan_mix

    ray = connect(address)
    workers = int(ray.cluster_resources().get("CPU", 1))
    tokenizer = cfg.tokenizer
    if tokenizer and Path(tokenizer).exists():  # workers may not share the driver's working directory
        tokenizer = str(Path(tokenizer).resolve())
    specs, plans = [], []
    for s in cfg.sources:
        formats = detect_formats([s.path], s.fmt, ReadSpec({}).opts, encoding, run.read_stats)
        specs.append(ReadSpec(formats=formats, encoding=encoding))
        plans.append(all_ranges([s.path], workers))

    # ---- pass 1: source by source (each has its own format and read options), ranges in parallel
    items = [{"range_no": n, "range": orjson.dumps(r.to_dict())} for n, r in enumerate(r for p in plans for r in p)]
    owner = [i for i, p in enumerate(plans) for _ in p]
    indexes = [SourceIndex(s.name) for s in cfg.sources]
    strata_ids: list[dict[str, int]] = [{} for _ in cfg.sources]
    got: dict[int, tuple[int, bytes, bytes]] = {}
    for i in range(len(cfg.sources)):
        mine = [it for it, o in zip(items, owner) if o == i]
        if not mine:
            continue
        ds = ray.data.from_items(mine, override_num_blocks=len(mine)).map_batches(
            IndexTask(specs[i], cfg.by, tokenizer, cfg.stratify), batch_size=1)
        for b in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for no, rows, fields, rej in zip(*(b.column(c).to_pylist() for c in ("range_no", "rows", "fields",
                                                                                  "rejects"))):
                got[no] = (rows, fields, rej)
    per_range_n: list[int] = []
    for no in range(len(items)):
        rows, fields, rej = got.pop(no)
        i = owner[no]
        run.read_stats.rows += rows
        for line in rej.splitlines():
            run.rejects.add(**orjson.loads(line))
        fs = orjson.loads(fields)
        per_range_n.append(len(fs))
        for w, label in fs:
            index_add(indexes[i], w, label, strata_ids[i])
    plan = plan_mix(cfg, indexes)

    # ---- pass 2: per source, its ranges with their slices of the multiplicities
    write = WriteSpec(out_format, write_opts)
    outputs = []
    no = 0
    for i, (s, sp) in enumerate(zip(cfg.sources, plan.sources)):
        rows, start = [], 0
        for r in plans[i]:
            n = per_range_n[no]
            rows.append({"range": orjson.dumps(r.to_dict()), "mult": sp.mult[start:start + n].tobytes(), "expect": n})
            start += n
            no += 1
        try:
            ds = ray.data.from_items(rows, override_num_blocks=max(1, len(rows))).map_batches(
                EmitTask(specs[i], write, sp.name, sp.file_name), batch_size=1).materialize()
        except Exception as e:  # a worker's UsageError arrives wrapped in Ray's task error
            if CHANGED in str(e):
                raise UsageError(f"source {sp.name} ({s.path}) {CHANGED}; run again") from None
            raise
        outputs.append(ds)

    def stream(i: int) -> Iterator[tuple[str, int, bytes]]:
        for epoch in range(plan.sources[i].max_copies):  # copy k of every record in the k-th pass, as locally
            for b in outputs[i].iter_batches(batch_size=None, batch_format="pyarrow"):
                for e, kind, reasoning, data in zip(*(b.column(c).to_pylist() for c in
                                                      ("epoch", "kind", "reasoning", "data"))):
                    if e == epoch:
                        yield kind, reasoning, data

    written = [0] * len(cfg.sources)
    with_reasoning = [0] * len(cfg.sources)
    for i, (kind, reasoning, data) in interleave([stream(i) for i in range(len(cfg.sources))],
                                                 [sp.out_records for sp in plan.sources]):
        if kind == "row":
            run.writer.write_row(orjson.loads(data))
            written[i] += 1
            with_reasoning[i] += reasoning
        else:
            run.rejects.add(**orjson.loads(data))
    return plan, indexes, written, with_reasoning


def _col(batch: Any, name: str) -> list[Any]:
    col = batch[name]
    return col.to_pylist() if hasattr(col, "to_pylist") else list(col)


def run_whole(run: Any, stage: Any, address: str | None) -> Any:
    """`MixStage` on Ray (`curator.engine.run_whole_stage`): the same accounting as locally."""
    from curator.mix_run import account

    return account(run, stage.cfg, *run_mix_ray(run, stage.cfg, encoding=stage.encoding, address=address,
                                                out_format=stage.out_format, write_opts=stage.write_opts))
