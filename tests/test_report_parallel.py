"""`curate report` over byte ranges on worker processes gives the one-process report, and figures
estimated from a sample say so (curator.report.scan, curator.report.sampling)."""

from __future__ import annotations

import pytest

import json
import math
import random

import orjson

import curator.report.sampling as sampling
from curator.i18n import set_lang
from curator.practice import PracticeConfig
from curator.report import describe
from curator.report.accum import TopCounter, ValueHistogram
from curator.report.html import render

from tests.conftest import run_cli

WORDS = ("write explain summarize translate list describe compare classify extract rewrite the a of data model "
         "python poem story price river music history ocean").split()
ZH = "写一首关于春天的诗解释量子计算的基本原理总结下面这段文字翻译成英文列出三种水果"


def _record(rng: random.Random, i: int) -> dict:
    kind = i % 9
    q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25))) + f" #{rng.randint(0, 40)}"
    a = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40)))
    meta: dict = {"source": f"src{rng.randint(0, 3)}", "tags": [rng.choice(["math", "code", "chat"])]}
    if kind == 1:
        q = ZH[rng.randint(0, 10):rng.randint(12, len(ZH))]
        a = ZH[rng.randint(0, 20):]
    if rng.random() < 0.3:
        meta["scores"] = {"quality": round(rng.uniform(0, 5), rng.choice([0, 1, 3])), "len": rng.randint(1, 9)}
    if rng.random() < 0.2:
        meta["generation"] = {"finish_reason": rng.choice(["stop", "length"]),
                              "usage": {"prompt_tokens": rng.randint(5, 90), "completion_tokens": rng.randint(1, 500)}}
    msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    if kind == 2:
        msgs.insert(0, {"role": "system", "content": rng.choice(["You are helpful.", "Answer in JSON."])})
    if kind == 3:
        msgs += [{"role": "user", "content": "and more?"}, {"role": "assistant", "content": '{"label": "yes"}'}]
    if kind == 4:
        msgs[1]["reasoning_content"] = "think " * rng.randint(1, 30)
    if kind == 5:
        msgs = msgs[:1]  # a prompt without an answer
    if kind == 6:
        msgs.append({"role": "user", "content": "dangling"})  # no_final_answer
    return {"id": f"r{i}", "messages": msgs, "meta": meta}


def _write(path, n: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    recs = [_record(rng, i) for i in range(n)]
    lines = []
    for i, r in enumerate(recs):
        lines.append(json.dumps(r, ensure_ascii=False))
        if i % 37 == 5:
            lines.append(json.dumps(recs[i // 2], ensure_ascii=False))  # exact duplicate
        if i % 41 == 7:
            near = dict(recs[i // 3])
            near["messages"] = [dict(m) for m in near["messages"]]
            near["messages"][0]["content"] += " please"
            lines.append(json.dumps(near, ensure_ascii=False))  # near duplicate
        if i % 53 == 9:
            lines.append("{not json")
        if i % 61 == 3:
            lines.append("")
        if i % 67 == 1:
            lines.append(json.dumps({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "x"}]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _report(path, workers: int) -> dict:
    return describe(path, practice=PracticeConfig(), semantic=True, workers=workers, range_bytes=4096)


@pytest.mark.slow
def test_workers_give_the_one_process_report(tmp_path, monkeypatch):
    src = tmp_path / "data.jsonl"
    _write(src, 700)
    for sample in (20_000, 150):  # every record, then every k-th line
        monkeypatch.setattr(sampling, "SAMPLE", sample)
        one, two = _report(src, 1), _report(src, 2)
        assert orjson.dumps(one, option=orjson.OPT_NON_STR_KEYS) == orjson.dumps(two, option=orjson.OPT_NON_STR_KEYS)
        assert one["records"] > 700 and one["invalid_rows"] > 10 and one["duplicates"]["exact_records"] > 10
        if sample == 150:
            s = one["sample"]
            assert s["of"] == one["records"] and 100 < s["records"] <= 150
            assert s["note"] == f"estimated from {s['records']:,} of {s['of']:,} records"
            assert sum(one["languages"].values()) == s["records"]
        else:
            assert "sample" not in one and one["duplicates"]["near_records"] > 10


def test_a_sampled_report_is_labelled(tmp_path, monkeypatch):
    src = tmp_path / "data.jsonl"
    _write(src, 400)
    monkeypatch.setattr(sampling, "SAMPLE", 100)
    d = _report(src, 2)
    n, m = d["sample"]["records"], d["sample"]["of"]
    note = f"estimated from {n:,} of {m:,} records"
    checks = {c["id"]: c for c in d["practice"]["checks"]}
    assert note in checks["duplicates"]["measured"] and f"由 {m:,} 条中的 {n:,} 条估算" in checks["duplicates"]["measured_zh"]
    assert note in checks["conflicts"]["measured"]
    assert d["semantic"]["sampled_from"] > d["semantic"]["records"]
    try:
        assert note in render([d], "t")
        set_lang("zh")
        assert f"由 {m:,} 条中的 {n:,} 条估算" in render([d], "t")
    finally:
        set_lang("en")
    monkeypatch.setattr(sampling, "SAMPLE", 20_000)
    unsampled = describe(src, workers=1)
    assert "sample" not in unsampled and "estimated from" not in render([unsampled], "t")


def test_the_command_says_which_figures_are_estimated(tmp_path, monkeypatch, capsys):
    from curator.commands.report import print_summary

    src = tmp_path / "data.jsonl"
    _write(src, 300)
    r = run_cli("report", str(src), "-o", str(tmp_path / "r.html"), "--no-semantic")
    assert r.returncode == 0, r.stderr
    assert "estimated from" not in r.stderr  # 300 records: every one is counted
    monkeypatch.setattr(sampling, "SAMPLE", 100)
    d = describe(src, workers=2, range_bytes=4096)
    capsys.readouterr()
    print_summary([d], tmp_path / "r.html", None)
    err = " ".join(capsys.readouterr().err.split())
    n, m = d["sample"]["records"], d["sample"]["of"]
    assert f"language mix, near duplicates, conflicts and diversity estimated from {n:,} of {m:,} records" in err


def test_capped_counter_merge_admits_what_one_pass_admits():
    rng = random.Random(1)
    keys = [f"k{rng.randint(0, 40)}" for _ in range(500)] + ["(other)"] * 3
    rng.shuffle(keys)
    one = TopCounter(limit=10)
    for k in keys:
        one.add(k)
    for cut in (0, 7, 100, 250, 503):
        a, b = TopCounter(limit=10), TopCounter(limit=math.inf)  # a worker's part is not capped
        for k in keys[:cut]:
            a.add(k)
        for k in keys[cut:]:
            b.add(k)
        a.merge(b)
        assert list(a.counts.items()) == list(one.counts.items())


def test_value_histogram_does_not_depend_on_the_order():
    rng = random.Random(2)
    vals = [rng.uniform(-3, 900) for _ in range(3000)]
    one = ValueHistogram(limit=200)
    for v in vals:
        one.add(v)
    a, b = ValueHistogram(limit=200), ValueHistogram(limit=200)
    for v in vals[:1234]:
        a.add(v)
    for v in vals[1234:]:
        b.add(v)
    b.merge(a)
    assert b.summary() == one.summary()


def test_a_sampled_duplicate_check_is_a_lower_bound_never_ok():
    """On a sampled report a near-duplicate pair is found only when both records are sampled, so
    a figure under the limit proves nothing: `info` with the lower-bound note, never `ok`; a
    figure over the limit still warns."""
    from curator.practice import checks
    from curator.practice.config import PracticeConfig
    from curator.practice.check_facts import PracticeFacts

    cfg, st = PracticeConfig(), PracticeFacts()
    st.records = 1_000_000
    base = {"threshold": 0.7, "conflict_groups": 0, "duplicate_examples": [], "conflict_examples": []}
    low = checks.duplicates(st, cfg, {**base, "duplicates": 10, "sample": (20_000, 1_000_000)})
    assert low.status == "info" and "lower bound" in low.measured["en"] and "下限" in low.measured["zh"]
    assert checks.conflicts(st, cfg, {**base, "duplicates": 0, "sample": (20_000, 1_000_000)}).status == "info"
    high = checks.duplicates(st, cfg, {**base, "duplicates": 2_000, "sample": (20_000, 1_000_000)})
    assert high.status == "warn"
    exact = checks.duplicates(st, cfg, {**base, "duplicates": 10})  # every record sketched: a real verdict
    assert exact.status == "ok" and "lower bound" not in exact.measured["en"]
