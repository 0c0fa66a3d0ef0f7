"""`curate select`: the plan (DEITA greedy, k-center, quotas, decontamination) and the command
(in = out + unselected, reasons with evidence, deterministic output, the store beside the output)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from curator.errors import UsageError
from curator.select import (QUOTA_FULL, SELECTED, TOO_CLOSE, SelectConfig, assign_groups, fair_quotas, plan,
                            record_score)
from tests.conftest import run_cli


def _unit(rows) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_deita_takes_best_first_and_skips_what_is_too_close():
    # 0 and 1 are near-identical (cos ~0.995); 1 scores higher, so 0 is too close to it
    x = _unit([[1, 0.1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    scores = np.array([0.5, 0.9, 0.4, 0.1])
    pl = plan(x, scores, SelectConfig(budget=3, threshold=0.9))
    assert pl.order == [1, 2, 3]
    assert pl.status[0] == TOO_CLOSE and pl.neighbour[0] == 1 and pl.similarity[0] > 0.99
    # score-only keeps the near-duplicate and leaves the distinct record out
    assert plan(x, scores, SelectConfig(budget=3, method="score")).order == [1, 0, 2]


def test_deita_blocks_compare_within_a_block_too():
    rng = np.random.default_rng(0)
    base = _unit(rng.normal(size=(50, 32)))
    x = np.concatenate([base, base + 1e-3])  # each record has a twin 50 rows later
    x = _unit(x)
    pl = plan(x, np.zeros(100), SelectConfig(budget=100, threshold=0.95))
    # one of each twin pair is kept (equal scores: seeded order), the other names it as its neighbour
    assert len(pl.order) == 50 and {i % 50 for i in pl.order} == set(range(50))
    for i in range(50):
        a, b = (i, i + 50) if i in pl.order else (i + 50, i)
        assert pl.status[b] == TOO_CLOSE and pl.neighbour[b] == a
    again = plan(x, np.zeros(100), SelectConfig(budget=100, threshold=0.95))
    assert again.order == pl.order  # deterministic for a seed
    other = plan(x, np.zeros(100), SelectConfig(budget=100, threshold=0.95, seed=1))
    assert other.order != pl.order


def test_kcenter_covers_far_points_first():
    x = _unit([[1, 0], [0.99, 0.14], [0, 1], [-1, 0.05]])
    pl = plan(x, np.array([1.0, 0.9, 0.0, 0.0]), SelectConfig(budget=3, method="kcenter"))
    assert pl.order[0] == 0 and set(pl.order) == {0, 2, 3}
    assert pl.status[1] == TOO_CLOSE and pl.neighbour[1] == 0


def test_fair_quotas_water_fill():
    assert fair_quotas({"big": 1000, "mid": 30, "tiny": 3}, 60) == {"big": 29, "mid": 28, "tiny": 3}
    q = fair_quotas({"a": 5, "b": 5}, 100)
    assert q == {"a": 5, "b": 5}


def test_quotas_keep_a_small_group_from_being_swamped():
    rng = np.random.default_rng(1)
    x = _unit(rng.normal(size=(300, 16)))
    groups = ["big"] * 280 + ["small"] * 20
    scores = np.concatenate([np.full(280, 0.9), np.full(20, 0.1)])  # the big group scores higher
    pl = plan(x, scores, SelectConfig(budget=40, balance="meta.source", threshold=1.0), groups=groups)
    got = Counter(groups[i] for i in pl.order)
    assert got == {"big": 20, "small": 20} and len(pl.order) == 40
    assert (pl.status == QUOTA_FULL).sum() > 0
    assert Counter(groups[i] for i in plan(x, scores, SelectConfig(budget=40, threshold=1.0)).order) == {"big": 40}


def test_quota_shortfall_from_too_close_is_refilled():
    # group a: 10 identical records (only one survives the distance test); group b: 10 distinct
    x = _unit(np.concatenate([np.tile([[1.0] + [0.0] * 15], (10, 1)), np.eye(16)[1:11]]))
    groups = ["a"] * 10 + ["b"] * 10
    pl = plan(x, np.zeros(20), SelectConfig(budget=8, balance="meta.source"), groups=groups)
    assert len(pl.order) == 8 and Counter(groups[i] for i in pl.order) == {"a": 1, "b": 7}


def test_scores_groups_and_config_checks():
    assert record_score({"a": 1, "b": 3, "note": "x"}, None) == 2
    from curator.select import parse_score

    assert record_score({"a": 1, "b": 3}, parse_score("0.5*a+b")) == 3.5
    assert np.isnan(record_score({"a": 1}, parse_score("b")))
    assert assign_groups([["x", "rare"], ["x"], ["x"], None]) == ["rare", "x", "x", "(none)"]
    for bad in (dict(), dict(budget=1, fraction=0.5), dict(budget=0), dict(budget=1, method="nope"),
                dict(budget=1, balance="source"), dict(budget=1, score="0.x*a")):
        with pytest.raises(UsageError):
            SelectConfig(**bad)
    assert SelectConfig(budget=1, balance="task").balance == "meta.task"


# ------------------------------------------------------------------------------------ the command
def _pool(tmp_path: Path) -> Path:
    """A pool with unequal groups, scores, an exact near-duplicate pair and Chinese + English."""
    rows = []
    for i in range(40):
        rows.append({"id": f"math-{i}", "messages": [
            {"role": "user", "content": f"Compute {i} plus {i * 7} and explain each step of the addition {i}."},
            {"role": "assistant", "content": str(i * 8)}], "meta": {"source": "math", "scores": {"q": 0.9 - i / 100}}})
    topics = ["写一首关于春天的诗", "解释量子纠缠", "如何做红烧肉", "介绍一下长城的历史", "推荐三本科幻小说"]
    for i, t in enumerate(topics):
        rows.append({"id": f"zh-{i}", "messages": [{"role": "user", "content": t},
                                                   {"role": "assistant", "content": "好的。"}],
                     "meta": {"source": "zh", "scores": {"q": 0.2}}})
    rows.append({"id": "zh-dup", "messages": [{"role": "user", "content": "写一首关于春天的诗。"},
                                              {"role": "assistant", "content": "好。"}],
                 "meta": {"source": "zh", "scores": {"q": 0.3}}})
    p = tmp_path / "pool.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


def _lines(p: Path) -> list[dict]:
    return [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]


def test_select_cli_accounts_for_every_record_and_is_deterministic(tmp_path):
    pool = _pool(tmp_path)
    evalf = tmp_path / "eval.jsonl"
    evalf.write_text(json.dumps({"messages": [{"role": "user", "content": "请解释量子纠缠"},
                                              {"role": "assistant", "content": "x"}]}, ensure_ascii=False) + "\n")
    args = ["select", str(pool), "--budget", "12", "--score", "q", "--balance", "meta.source", "--threshold", "0.8",
            "--against", str(evalf), "--ngram", "4"]
    r = run_cli(*args, "-o", str(tmp_path / "a.jsonl"))
    assert r.returncode == 0, r.stderr
    out, unsel = _lines(tmp_path / "a.jsonl"), _lines(tmp_path / "a.unselected.jsonl")
    m = json.loads((tmp_path / "a.manifest.json").read_text())
    assert len(out) == 12 and len(out) + len(unsel) == 46 and m["counts"]["balanced"]
    assert m["counts"]["excluded_by_reason"] == dict(Counter(u["meta"]["unselected"]["reason"] for u in unsel))
    reasons = {u["id"]: u["meta"]["unselected"] for u in unsel}
    assert reasons["zh-1"]["reason"] == "contaminated" and reasons["zh-1"]["against"] == "eval.jsonl"
    # the duplicate poem prompt scores higher (0.3) than its twin, so the twin is the one too close
    assert reasons["zh-0"]["reason"] == "too_close" and reasons["zh-0"]["neighbour"] == "zh-dup"
    assert 0.8 < reasons["zh-0"]["similarity"] <= 1.0
    # the small Chinese group gets its share despite lower scores
    assert Counter(r["meta"]["source"] for r in out)["zh"] == 4
    assert all(r["meta"]["lineage"][-1] == "select" for r in out)
    assert [r["meta"]["select"]["rank"] for r in out] != [] and m["select"]["quotas"] == {"math": 8, "zh": 5}
    store = json.loads((tmp_path / "a.embeddings.json").read_text())
    assert len(store["ids"]) == 46 and Counter(store["status"])["selected"] == 12
    # same input, same parameters: byte-identical output; the second run reuses the stored vectors
    import shutil

    shutil.copy(tmp_path / "a.embeddings.npy", tmp_path / "b.embeddings.npy")
    shutil.copy(tmp_path / "a.embeddings.json", tmp_path / "b.embeddings.json")
    r2 = run_cli(*args, "-o", str(tmp_path / "b.jsonl"))
    assert r2.returncode == 0, r2.stderr
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.unselected.jsonl").read_bytes() == (tmp_path / "b.unselected.jsonl").read_bytes()
    assert json.loads((tmp_path / "b.manifest.json").read_text())["select"]["embeddings"]["embedded"] == 0


def test_select_cli_usage_errors_are_one_line(tmp_path):
    pool = _pool(tmp_path)
    r = run_cli("select", str(pool), "-o", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and "--budget" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("select", str(pool), "-o", str(tmp_path / "o.jsonl"), "--fraction", "0.5", "--against", "nope.jsonl")
    assert r.returncode == 2 and "nope.jsonl" in r.stderr


def test_select_fraction_kcenter_and_bad_rows(tmp_path):
    pool = _pool(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "asistant", "content": "x"}]}\nnot json\n')
    r = run_cli("select", str(pool), str(bad), "--fraction", "0.25", "--method", "kcenter",
                "-o", str(tmp_path / "k.jsonl"))
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "k.manifest.json").read_text())
    c = m["counts"]
    assert c["out"] == round(0.25 * 46) and c["rejected"] == 2 and c["balanced"]
    assert c["in"] == c["out"] + c["rejected"] + c["excluded"]


def test_deita_rubrics_load_render_and_parse():
    """The DEITA complexity/quality rubrics (en + zh) load, render the record and parse a 1..6 verdict."""
    from rubrics.judge import JudgeRubric, load_judge_file, resolve_rubric_path
    from rubrics.judge_parse import parse_rating

    from curator.record import Conversation, Message

    conv = Conversation([Message("user", "证明根号2是无理数"), Message("assistant", "假设根号2=p/q……矛盾。")])
    for name in ("deita_complexity", "deita_quality", "deita_complexity_zh", "deita_quality_zh"):
        spec = load_judge_file(resolve_rubric_path(name))
        assert spec.name == name and tuple(spec.scale) == (1, 6)
        body = JudgeRubric(spec).render(conv, answer="假设根号2=p/q……矛盾。")[-1]["content"]
        assert "证明根号2是无理数" in body and "[[" in body
        assert parse_rating("[[9]]", spec.format, *spec.scale).value is None  # outside 1..6
        assert parse_rating("理由……评分：[[5]]", spec.format, *spec.scale).value == 5
