"""Dedup: normalisation, MinHash estimates, known clusters (English, Chinese, full-width), keep
policies, conflicts, in = out + rejects with duplicate_of, and byte-identical output for 1 and 2 workers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from curator.dedup import CONFLICT, DUPLICATE, KEPT, NEAR_DUPLICATE, DedupConfig, connected_components, dedup_texts
from curator.minhash import MinHashParams, estimate_jaccard, is_cjk, signatures
from curator.rejects import read_rejects
from curator.textnorm import normalize
from tests.conftest import run_cli

SKY = "Sunlight is made of many colours. Blue light is scattered by the air the most, so the whole sky looks blue to us."
SKY_ZH = "阳光里有很多颜色。蓝色的光在空气里被散射得最多，所以我们看到整个天空都是蓝色的。"


def test_normalize_folds_width_case_space_and_punctuation():
    assert normalize("ＨＥＬＬＯ，　Ｗｏｒｌｄ！１２３") == normalize("hello world 123") == "helloworld123"
    assert normalize("你好，世界。「测试」") == normalize("你好 世界 测试") == "你好世界测试"
    assert normalize("") == ""


def _jaccard(a: str, b: str, n: int = 5) -> float:
    sa = {a[i:i + n] for i in range(max(1, len(a) - n + 1))}
    sb = {b[i:i + n] for i in range(max(1, len(b) - n + 1))}
    return len(sa & sb) / len(sa | sb)


@pytest.mark.parametrize("a,b", [
    ("the quick brown fox jumps over the lazy dog", "the quick brown fox jumped over the lazy dog"),
    ("今天天气很好我们去公园散步吧然后去吃饭", "今天天气很好我们去公园跑步吧然后去吃饭"),
    (SKY, SKY[:60]),
])
def test_minhash_estimate_tracks_true_jaccard(a, b):
    a, b = normalize(a), normalize(b)
    p = MinHashParams(num_perm=256)
    est = float(estimate_jaccard(signatures([a], p), signatures([b], p))[0])
    assert abs(est - _jaccard(a, b, p.size_for(is_cjk(a)))) < 0.1  # Chinese is shingled by bigrams


def test_signatures_do_not_depend_on_batching():
    texts = [normalize(SKY), "", "ab", normalize(SKY_ZH)] * 5
    whole = signatures(texts)
    parts = np.concatenate([signatures(texts[i:i + 3]) for i in range(0, len(texts), 3)])
    assert np.array_equal(whole, parts)


@pytest.mark.parametrize("ngram", [1, 2, 5])
def test_signatures_equal_a_per_text_minimum(ngram, monkeypatch):
    """The chunked, gather-free signature code against the definition: per text, per permutation,
    the top 32 bits of min((a*x + b) mod 2^64) over its shingles' x (tiny chunks force many)."""
    import curator.minhash as mh

    monkeypatch.setattr(mh, "_CHUNK", 64)
    texts = [normalize(SKY), "", "a", "ab", normalize(SKY_ZH), "", normalize(SKY)[:7], "x" * 200]
    p = MinHashParams(num_perm=16, ngram=ngram, ngram_cjk=0)
    got = signatures(texts, p)
    a, b, _ = mh._coefficients(p.num_perm, p.ngram, p.seed)
    for i, t in enumerate(texts):
        h, counts = mh.shingle_hashes([t], ngram, p.seed)
        if not counts[0]:
            assert (got[i] == mh.EMPTY).all()
            continue
        x = h >> np.uint64(32)
        want = [min(int(v) for v in (x * a[k] + b[k])) >> 32 for k in range(p.num_perm)]
        assert got[i].tolist() == [min(w, int(mh.EMPTY) - 1) for w in want]


def _roots_by_union_find(n: int, edges: list[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for x, y in edges:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    return [find(i) for i in range(n)]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_connected_components_match_union_find(case):
    n, edges = case
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    # the root is the smallest index of each component, whatever the edge order
    assert connected_components(n, a, b).tolist() == _roots_by_union_find(n, edges)


def test_connected_components_long_chain():
    n = 10_000
    order = np.random.default_rng(0).permutation(n)
    roots = connected_components(n, order[:-1], order[1:])  # one path through every index
    assert (roots == 0).all()


def test_known_clusters_english_chinese_fullwidth():
    texts = [
        ("Why is the sky blue?", SKY),                               # 0 kept
        ("why is the SKY blue", SKY.replace(".", "")),               # 1 exact after normalisation
        ("Ｗｈｙ ｉｓ ｔｈｅ ｓｋｙ ｂｌｕｅ？", SKY),                     # 2 full-width: exact
        ("Why is the sky blue?", SKY.replace("many", "mnay") + " Hope this helps."),  # 3 near
        ("为什么天空是蓝色的？", SKY_ZH),                              # 4 kept
        ("为什么天空是蓝色的?", SKY_ZH.replace("，", ",")),             # 5 exact (punctuation)
        ("为什么天空是蓝色的", SKY_ZH.replace("很多", "许多")),          # 6 near
        ("Write a poem about the sea.", "The sea is wide, the sea is deep, it sings the sailors all to sleep."),
    ]
    pl = dedup_texts(texts)
    assert pl.status.tolist() == [KEPT, DUPLICATE, DUPLICATE, NEAR_DUPLICATE, KEPT, DUPLICATE, NEAR_DUPLICATE, KEPT]
    assert pl.kept_of.tolist() == [0, 0, 0, 0, 4, 4, 4, 7]
    assert sorted(map(sorted, pl.clusters)) == [[0, 1, 2, 3], [4, 5, 6]]
    assert 0.7 <= pl.similarity[3] < 1.0


def test_exact_only_leaves_near_duplicates():
    texts = [("Why is the sky blue?", SKY), ("Why is the sky blue?", SKY + " Hope this helps.")]
    assert dedup_texts(texts, DedupConfig(exact_only=True)).status.tolist() == [KEPT, KEPT]
    assert dedup_texts(texts).status.tolist() == [KEPT, NEAR_DUPLICATE]


def test_on_prompt_vs_answer():
    texts = [("Why is the sky blue?", SKY), ("Why is the sky blue?", "Rayleigh scattering.")]
    assert dedup_texts(texts, DedupConfig(on="prompt")).status.tolist() == [KEPT, DUPLICATE]
    assert dedup_texts(texts, DedupConfig(on="answer")).status.tolist() == [KEPT, KEPT]
    assert dedup_texts(texts, DedupConfig(on="conversation")).status.tolist() == [KEPT, KEPT]


def test_keep_longest():
    texts = [("Why is the sky blue?", SKY), ("Why is the sky blue?", SKY + " That is all.")]
    pl = dedup_texts(texts, DedupConfig(keep="longest"))
    assert pl.status.tolist() == [NEAR_DUPLICATE, KEPT] and pl.kept_of.tolist() == [1, 1]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _msgs(p: str, a: str, **meta) -> dict:
    return {"messages": [{"role": "user", "content": p}, {"role": "assistant", "content": a}], "meta": meta}


CRAFTED = [
    _msgs("Why is the sky blue?", SKY, scores={"q": 0.2}),
    _msgs("why is the sky blue", SKY + " Hope this helps.", scores={"q": 0.9}),
    _msgs("Why is the sky blue?", "Because the ocean reflects onto it, which paints the whole sky in its colour.",
          scores={"q": 0.1}),
    _msgs("为什么天空是蓝色的？", SKY_ZH),
    _msgs("为什么天空是蓝色的?", SKY_ZH),
    _msgs("Name three primary colours.", "Red, yellow and blue."),
]


def test_cli_rejects_balance_duplicate_of_report_and_conflicts(tmp_path):
    src = _write(tmp_path / "in.jsonl", CRAFTED)
    src.write_text(src.read_text(encoding="utf-8") + "{broken\n[1, 2]\n", encoding="utf-8")  # 2 bad rows
    out = tmp_path / "out.jsonl"
    r = run_cli("dedup", str(src), "-o", str(out), "--report", str(tmp_path / "c.jsonl"),
                "--conflicts", str(tmp_path / "k.jsonl"), "--workers", "1")
    assert r.returncode == 0, r.stderr
    man = json.loads((tmp_path / "out.manifest.json").read_text())
    assert man["counts"]["balanced"] and man["counts"]["in"] == 8
    kept = [json.loads(l) for l in out.read_text().splitlines()]
    rej = read_rejects(tmp_path / "out.rejects.jsonl")
    assert len(kept) + len(rej) == 8
    assert sum(x["reason"] not in ("duplicate", "near_duplicate") for x in rej) == 2  # the bad rows, once each
    dups = {x["line"]: x for x in rej if x["reason"] in ("duplicate", "near_duplicate")}
    kept_ids = {k["id"] for k in kept}
    assert set(dups) == {2, 5}
    assert all(d["duplicate_of"] in kept_ids for d in dups.values())
    assert dups[2]["reason"] == "near_duplicate" and dups[5]["reason"] == "duplicate"
    assert "in.jsonl:1" in dups[2]["message"]
    clusters = [json.loads(l) for l in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert sorted(c["size"] for c in clusters) == [2, 2]
    groups = [json.loads(l) for l in (tmp_path / "k.jsonl").read_text().splitlines()]
    assert len(groups) == 1 and {m["line"] for m in groups[0]["members"]} >= {1, 3}
    assert groups[0]["answer_similarity"] < 0.5 <= groups[0]["prompt_similarity"]


def test_cli_drop_conflicts_and_best_score(tmp_path):
    src = _write(tmp_path / "in.jsonl", CRAFTED)
    out = tmp_path / "out.jsonl"
    r = run_cli("dedup", str(src), "-o", str(out), "--drop-conflicts", "--workers", "1")
    assert r.returncode == 0, r.stderr
    reasons = {x["line"]: x["reason"] for x in read_rejects(tmp_path / "out.rejects.jsonl")}
    assert reasons[1] == reasons[2] == reasons[3] == "conflict"
    out2 = tmp_path / "best.jsonl"
    r = run_cli("dedup", str(src), "-o", str(out2), "--keep", "best-score", "--score-key", "q", "--workers", "1")
    assert r.returncode == 0, r.stderr
    rej = {x["line"]: x for x in read_rejects(tmp_path / "best.rejects.jsonl")}
    assert rej[1]["reason"] == "near_duplicate"  # line 2 has the higher score and is kept
    kept_texts = out2.read_text()
    assert "Hope this helps" in kept_texts


def test_cli_same_bytes_with_one_and_two_workers(tmp_path, sample):
    rows = CRAFTED * 3 + [_msgs(f"Question number {i}: what is {i} plus {i}?", f"It is {2 * i}.") for i in range(300)]
    src = _write(tmp_path / "in.jsonl", rows)
    outs = []
    for w in ("1", "2"):
        out = tmp_path / f"out{w}.jsonl"
        r = run_cli("dedup", str(src), "-o", str(out), "--workers", w, "--report", str(tmp_path / f"c{w}.jsonl"))
        assert r.returncode == 0, r.stderr
        outs.append((out.read_bytes(), (tmp_path / f"out{w}.rejects.jsonl").read_bytes(),
                     (tmp_path / f"c{w}.jsonl").read_bytes()))
    assert outs[0] == outs[1]


def test_cli_usage_errors_exit_2(tmp_path):
    src = _write(tmp_path / "in.jsonl", CRAFTED)
    r = run_cli("dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--keep", "shortest")
    assert r.returncode == 2 and "--keep" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("dedup", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_real_alpaca_zh_and_en_together(tmp_path, real):
    out = tmp_path / "out.jsonl"
    r = run_cli("dedup", str(real / "alpaca_en_demo.json"), str(real / "alpaca_zh_demo.json"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    man = json.loads((tmp_path / "out.manifest.json").read_text())
    assert man["counts"]["balanced"] and man["counts"]["in"] == 1999
    assert 1900 < man["counts"]["out"] < 1999  # a few real duplicates, not a collapse


def test_pair_similarity_in_chunks_equals_one_pass():
    from curator.dedup import Sketches, _on_similarity, sketch_batch

    texts = [(normalize(f"question {i % 7}"), normalize(SKY[: 40 + i])) for i in range(60)] + [("", ""), ("a", "")]
    sk = Sketches()
    sk.add(sketch_batch(texts, MinHashParams()), [str(i) for i in range(len(texts))], [None] * len(texts),
           [0] * len(texts), [0.0] * len(texts))
    arr = sk.arrays()
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, len(texts), 500), rng.integers(0, len(texts), 500)
    for on in ("prompt", "answer", "conversation"):
        assert np.array_equal(_on_similarity(on, arr, a, b, chunk=7), _on_similarity(on, arr, a, b))


def test_normalize_many_equals_normalize_on_random_unicode():
    import random

    from curator.textnorm import normalize_many

    rnd = random.Random(1)
    ranges = [(32, 127), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF), (0x10000, 0x110000), (0xD800, 0xE000), (0x80, 0x3000)]
    texts = ["".join(chr(rnd.randrange(*rnd.choice(ranges))) for _ in range(rnd.randrange(0, 40))) for _ in range(3000)]
    texts += ["", "abc", "İstanbul ǅ ß ﬁ", "_under_score_", "x\u0301y", "ＡＢＣ１２３，", "你好，世界。", "\0\0"]
    assert normalize_many(texts) == [normalize(t) for t in texts]
    assert normalize_many(texts[-3:]) == [normalize(t) for t in texts[-3:]]  # the few-texts path
