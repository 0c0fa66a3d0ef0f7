"""Dedup's passes with plain rows kept off the general path (`curator.engine.dedup_plain`) give what
the general path (every row parsed into a `Conversation`) gives: on pass 1 the same ids, origins,
texts, lengths, scores, reject lines and row counts; on pass 2 the same output rows, reject lines
(`--rejects-mode full` and `ref`) and counters, range by range.

Pass 1, the plan and the per-range payloads are the local engine's own (`sketch_range`, `plan`,
`drops_payload`); then each range runs both ways. The inputs are real data with injected exact and
near duplicates, and the hostile rows of tests/test_fastpath.py (bad JSON, wrong types, huge ids,
think tags, placeholders, a byte-order mark, CRLF ...), which pass 1 rejects or the plain path declines.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from curator.dedup import DedupConfig, Sketches, plan, record_fields
from curator.engine.dedup_plain import keep_range, range_fields
from curator.engine.dedup_tasks import KeepStage, drops_payload, sketch_range
from curator.engine.ranges import plan_ranges
from curator.engine.tasks import BufferSink, ReadSpec, WriteSpec, read_range, run_range
from curator.formats import DEFAULT_READ, ReadOptions
from curator.io import ReadStats, RecordWriter, read_records
from curator.rejects import RejectSink
from tests.test_fastpath import HOSTILE_ALPACA, HOSTILE_MESSAGES, _jsonl, _plain_share


def _with_duplicates(lines: list[bytes], fmt: str) -> list[bytes]:
    """`lines` with every third parseable row repeated later, as is or with one word changed."""
    out = list(lines)
    for k, line in enumerate(lines):
        if k % 3:
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        out.append(line)
        if type(row) is dict and fmt == "alpaca" and type(row.get("output")) is str:
            out.append(orjson.dumps({**row, "output": row["output"] + " Thanks."}))
    return out


def _both_ways(path: Path, fmt: str, mode: str, opts: ReadOptions = DEFAULT_READ, range_size: int = 1 << 14,
               drop_conflicts: bool = False):
    """(fast, general, dropped): both pass 2 routes over every range, and how many records the plan drops."""
    spec = ReadSpec(formats={str(path): fmt}, opts=opts)
    cfg = DedupConfig(rejects_mode=mode, drop_conflicts=drop_conflicts)  # type: ignore[arg-type]
    ranges = plan_ranges(path, range_size)
    sk, counts, bad = Sketches(), [], []
    for r in ranges:
        rs = sketch_range(r, spec, cfg)
        sk.add(rs.sketch, rs.ids, rs.origins, rs.lengths, rs.scores)
        counts.append(rs.n)
        bad.append([orjson.loads(x).get("line") for x in rs.rejects])
    pl = plan(sk, cfg)
    quiet = ReadSpec(formats=spec.formats, opts=opts, report_bad_rows=False, validate=False)
    fast, general, base = [], [], 0
    for r, n, skip in zip(ranges, counts, bad):
        payload = drops_payload(pl, sk.ids, sk.origins, base, n, r, spec, mode, skip)
        fast.append(keep_range(quiet, WriteSpec(), r, payload))
        general.append(run_range("dedup", quiet, KeepStage(), WriteSpec(), r, payload))
        base += n
    return fast, general, int((pl.status != 0).sum())


CONFIGS = (DedupConfig(), DedupConfig(keep="best-score"), DedupConfig(on="prompt", keep="best-score", score_key="q"))


def assert_same_fields(path: Path, fmt: str, opts: ReadOptions = DEFAULT_READ, range_size: int = 1 << 14) -> None:
    """Pass 1's per-record values and rejects, plain route vs `read_range` + `record_fields`."""
    spec = ReadSpec(formats={str(path): fmt}, opts=opts)
    for cfg in CONFIGS:
        for r in plan_ranges(path, range_size):
            sink, stats, sink2, stats2 = BufferSink("dedup"), ReadStats(), BufferSink("dedup"), ReadStats()
            fast = list(range_fields(r, spec, sink, stats, cfg))
            general = [(c.id, c.origin, record_fields(c, cfg)) for c in read_range(r, spec, sink2, stats2)]
            assert fast == general, (cfg, r)
            assert sink.lines() == sink2.lines() and stats.rows == stats2.rows


def _real_alpaca(real: Path) -> list[bytes]:
    rows = []
    for name in ("alpaca_en_demo.json", "alpaca_zh_demo.json", "identity.json", "gpteacher_roleplay.json"):
        rows += orjson.loads((real / name).read_bytes())
    return [orjson.dumps(r) for r in rows]


@pytest.mark.parametrize("mode", ["full", "ref"])
def test_real_alpaca_with_duplicates(tmp_path, real, mode):
    path = _jsonl(tmp_path / "a.jsonl", _with_duplicates(_real_alpaca(real), "alpaca"))
    assert _plain_share(path, "alpaca") > 0.9  # the new route is taken (the comparison is not vacuous)
    assert_same_fields(path, "alpaca")
    fast, general, dropped = _both_ways(path, "alpaca", mode)
    assert dropped > 100
    assert fast == general


@pytest.mark.parametrize("mode", ["full", "ref"])
def test_real_canonical_with_duplicates(tmp_path, real, mode):
    canon = tmp_path / "canon.jsonl"
    with RecordWriter(canon, "messages") as w:
        for name, fmt in (("alpaca_zh_demo.json", "alpaca"), ("glaive_toolcall_en_demo.json", "sharegpt"),
                          ("fastchat_dummy_conversation.json", "sharegpt"), ("identity.json", "alpaca")):
            for conv in read_records(real / name, fmt, rejects=RejectSink(None)):
                w.write(conv)
    path = _jsonl(tmp_path / "c.jsonl", _with_duplicates(canon.read_bytes().splitlines(), "messages"))
    assert 0.3 < _plain_share(path, "messages") < 1  # both routes are taken
    assert_same_fields(path, "messages", range_size=1 << 15)
    fast, general, dropped = _both_ways(path, "messages", mode, range_size=1 << 15)
    assert dropped > 100
    assert fast == general


@pytest.mark.parametrize("mode", ["full", "ref"])
def test_hostile_rows_with_duplicates(tmp_path, mode):
    for name, fmt, lines in (("a.jsonl", "alpaca", HOSTILE_ALPACA), ("m.jsonl", "messages", HOSTILE_MESSAGES)):
        path = _jsonl(tmp_path / name, _with_duplicates(lines, fmt))
        assert 0.1 < _plain_share(path, fmt) < 0.9
        for opts in (DEFAULT_READ, ReadOptions(split_think=False), ReadOptions(think_open="/", think_close="//")):
            assert_same_fields(path, fmt, opts)
            for size in (1 << 10, 1 << 14):
                fast, general, dropped = _both_ways(path, fmt, mode, opts, size)
                assert dropped > 5
                assert fast == general, (name, opts, size)


@pytest.mark.parametrize("mode", ["full", "ref"])
def test_dropped_conflicts_and_duplicates_have_the_same_reject_lines(tmp_path, real, mode):
    """Plain dropped rows get their reject line from the plain route (record spliced in as bytes, or
    a reference): conflicts (same prompt, unlike answers) keep the full record even in ref mode."""
    rows = orjson.loads((real / "alpaca_en_demo.json").read_bytes())[:400]
    lines = [orjson.dumps(r) for r in rows]
    lines += [orjson.dumps({**r, "output": "Something else entirely, written by another annotator."}) for r in rows[:60]]
    lines += [orjson.dumps(r) for r in rows[100:160]]  # exact copies
    path = _jsonl(tmp_path / "c.jsonl", lines)
    fast, general, dropped = _both_ways(path, "alpaca", mode, drop_conflicts=True)
    assert dropped >= 170
    assert fast == general
    rejects = [orjson.loads(d) for kinds, datas in fast for k, d in zip(kinds, datas) if k == "reject"]
    conflicts = [x for x in rejects if x["reason"] == "conflict"]
    duplicates = [x for x in rejects if x["reason"] == "duplicate"]
    assert len(conflicts) >= 100 and len(duplicates) >= 50
    assert all(x["record"]["messages"] for x in conflicts)  # a conflict's reject keeps its record
    assert all((x["record"] is None) == (mode == "ref") and ("ref" in x) == (mode == "ref") for x in duplicates)
