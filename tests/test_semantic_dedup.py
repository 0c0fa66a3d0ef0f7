"""`curate dedup --semantic`: embedding neighbours, exact when small, partitioned when large;
every drop names the kept record and the cosine similarity."""

from __future__ import annotations

import json

import numpy as np

from curator.semantic_dedup import semantic_plan
from tests.conftest import run_cli


def _clustered(n_centres: int, per: int, dim: int = 32, noise: float = 0.02, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_centres, dim))
    x = np.repeat(centres, per, axis=0) + noise * rng.normal(size=(n_centres * per, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_keeps_one_per_tight_group_in_priority_order():
    x = _clustered(10, 5)
    prio = np.zeros(50)
    prio[3] = 1.0  # record 3 outranks its group: it is the one kept there
    pl = semantic_plan(x, prio, 0.95)
    assert pl.method == "exact" and pl.dropped == 40
    kept = np.flatnonzero(pl.kept_of < 0)
    assert 3 in kept and 0 not in kept and sorted(kept.tolist())[1:] == [5 * g for g in range(1, 10)]
    assert pl.kept_of[0] == 3 and pl.similarity[0] >= 0.95
    assert (pl.similarity[pl.kept_of >= 0] >= 0.95).all()


def test_partitioned_matches_exact_on_separated_groups_and_is_deterministic():
    x = _clustered(40, 6, seed=3)
    prio = np.zeros(len(x))
    exact = semantic_plan(x, prio, 0.95)
    part = semantic_plan(x, prio, 0.95, exact_max=10)
    again = semantic_plan(x, prio, 0.95, exact_max=10)
    assert part.method == "partitioned" and part.clusters >= 2
    assert np.array_equal(part.kept_of, exact.kept_of)
    assert np.array_equal(part.kept_of, again.kept_of)


def test_threshold_is_inclusive():
    x = np.array([[1, 0], [0.8, 0.6]], dtype=np.float32)  # cosine exactly 0.8
    assert semantic_plan(x, np.zeros(2), 0.8).dropped == 1
    assert semantic_plan(x, np.zeros(2), 0.81).dropped == 0


def test_dedup_semantic_cli(tmp_path):
    prompts = ["How do I reverse a list in Python?", "How do I reverse a list in Python please?",
               "What is the capital of France?", "如何学习机器学习？", "如何学习机器学习呢？", "今天天气怎么样"]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "messages": [{"role": "user", "content": p},
                                                                    {"role": "assistant", "content": "ok"}]},
                                      ensure_ascii=False) + "\n" for i, p in enumerate(prompts)), encoding="utf-8")
    r = run_cli("dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--semantic", "0.75", "--on", "prompt")
    assert r.returncode == 0, r.stderr
    kept = [json.loads(x)["id"] for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    rej = [json.loads(x) for x in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert kept == ["r0", "r2", "r3", "r5"]
    assert {(x["id"], x["duplicate_of"], x["reason"]) for x in rej} == {("r1", "r0", "semantic_duplicate"),
                                                                        ("r4", "r3", "semantic_duplicate")}
    assert all(0.75 <= x["similarity"] <= 1.0 for x in rej)
    m = json.loads((tmp_path / "o.manifest.json").read_text())
    assert m["counts"]["balanced"] and m["dedup"]["semantic"]["method"] == "exact"
    assert (tmp_path / "o.embeddings.npy").is_file()
    bad = run_cli("dedup", str(src), "-o", str(tmp_path / "p.jsonl"), "--semantic", "1.5")
    assert bad.returncode == 2 and "--semantic" in bad.stderr
