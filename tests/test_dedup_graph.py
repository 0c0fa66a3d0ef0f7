"""Near-duplicates found transitively: every pair inside an LSH bucket counts (not only pairs with
the bucket's first member), the sorted-neighbour fallback of huge buckets, the link a drop names,
and the real GPTeacher toolformer set checked against exact character-5-gram Jaccard."""

from __future__ import annotations

import pytest

import json
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.exact_jaccard import kept_by_exact_jaccard, pairs_at_least, shingles
from curator import dedup_graph as g
from curator.dedup import KEPT, NEAR_DUPLICATE, DedupConfig, dedup_texts
from curator.textnorm import normalize
from tests.conftest import run_cli


def _verify_from(sim: dict[tuple[int, int], float], threshold: float):
    """A pair verifier over a fixed similarity table (pairs absent from it are 0)."""
    def verify(a: np.ndarray, b: np.ndarray):
        s = np.array([sim.get((min(x, y), max(x, y)), 0.0) for x, y in zip(a.tolist(), b.tolist())])
        return s >= threshold, s
    return verify


def _buckets(lists: list[list[int]]) -> g.Buckets:
    gid = np.concatenate([np.full(len(m), k) for k, m in enumerate(lists)]).astype(np.int64)
    return g.groups_to_buckets(gid, np.concatenate([np.asarray(m, np.int64) for m in lists]))


def test_members_matching_each_other_but_not_the_first_are_united():
    # bucket [0, 1, 2]: 1~2 (0.9) but neither matches 0; the old star compared only (0,1), (0,2)
    b = _buckets([[0, 1, 2]])
    sim = {(0, 1): 0.3, (0, 2): 0.2, (1, 2): 0.9}
    a, bb, s, large = g.match_edges(3, b, _verify_from(sim, 0.7), [], g.empty_pairs())
    assert list(zip(a.tolist(), bb.tolist())) == [(1, 2)] and s.tolist() == [0.9] and large == 0
    assert g.connected_components(3, a, bb).tolist() == [0, 1, 1]


def test_chain_across_buckets_and_the_link_each_member_names():
    # A~B in one bucket, B~C in another, A and C do not match: one cluster, C's link is B
    b = _buckets([[0, 1], [1, 2]])
    sim = {(0, 1): 0.8, (1, 2): 0.75, (0, 2): 0.4}
    a, bb, s, _ = g.match_edges(3, b, _verify_from(sim, 0.7), [], g.empty_pairs())
    assert (g.connected_components(3, a, bb) == 0).all()
    parent, link = g.link_tree(3, a, bb, s, np.array([0]))
    assert parent.tolist() == [0, 0, 1] and link.tolist() == [1.0, 0.8, 0.75]


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.lists(st.integers(0, n - 1), min_size=2, max_size=12, unique=True), min_size=1, max_size=8),
    st.integers(0, 2**31 - 1))))
def test_same_clusters_as_verifying_every_pair_of_every_bucket(case):
    n, lists, seed = case
    rng = random.Random(seed)
    sim = {(x, y): rng.random() for x in range(n) for y in range(x + 1, n)}
    a, b, _, _ = g.match_edges(n, _buckets(lists), _verify_from(sim, 0.6), [], g.empty_pairs())
    brute_a, brute_b = [], []
    for m in lists:
        for i in range(len(m)):
            for j in range(i + 1, len(m)):
                x, y = sorted((m[i], m[j]))
                if sim[(x, y)] >= 0.6:
                    brute_a.append(x)
                    brute_b.append(y)
    want = g.connected_components(n, np.array(brute_a, np.int64), np.array(brute_b, np.int64))
    assert g.connected_components(n, a, b).tolist() == want.tolist()


def test_huge_bucket_uses_sorted_neighbours_and_is_counted():
    # 700 members (> ALL_PAIRS_MAX): pairs (2k, 2k+1) match; sorting by a key that puts each pair
    # side by side finds all of them without the 244,650 pairs of the whole bucket
    n = 700
    b = _buckets([list(range(n))])
    sim = {(k, k + 1): 0.9 for k in range(0, n, 2)}
    keys = np.array([k // 2 for k in range(n)], dtype=np.uint64)
    a, bb, _, large = g.match_edges(n, b, _verify_from(sim, 0.7), [lambda m: keys[m]], g.empty_pairs())
    assert large == 1
    roots = g.connected_components(n, a, bb)
    assert roots.tolist() == [k - k % 2 for k in range(n)]


def test_identical_buckets_are_kept_once_in_one_order_whatever_order_they_came_in():
    lists = [[3, 1, 2], [1, 2, 3], [4, 5], [1, 2], [0, 9], [7, 8, 9]]
    b = _buckets(lists)
    assert len(b) == 5 and sorted(b.members.tolist()) == [0, 1, 1, 2, 2, 3, 4, 5, 7, 8, 9, 9]
    # the Ray shuffle returns buckets in any order; the budget serves them in this canonical one
    for seed in range(5):
        shuffled = random.Random(seed).sample(lists, len(lists))
        again = _buckets(shuffled)
        assert again.members.tolist() == b.members.tolist() and again.starts.tolist() == b.starts.tolist()


# ----------------------------------------------------------------------------- on real text
def _words(rng: random.Random, k: int) -> list[str]:
    return [rng.choice(["alpha", "river", "stone", "cloud", "maple", "tiger", "ocean", "ember", "quartz", "lemon",
                        "violet", "harbor", "canyon", "meadow", "falcon", "copper"]) + str(rng.randrange(100))
            for _ in range(k)]


def test_chain_of_edits_is_one_cluster_and_each_drop_names_its_match():
    rng = random.Random(3)
    a = _words(rng, 120)
    b = a[:40] + _words(rng, 18) + a[58:]      # A -> B: one stretch rewritten
    c = b[:80] + _words(rng, 18) + b[98:]      # B -> C: another stretch rewritten
    texts = [("write the list", " ".join(x)) for x in (a, b, c)]
    cfg = DedupConfig(on="answer", threshold=0.7)
    pl = dedup_texts(texts, cfg)
    est = {(i, j): _jaccard(normalize(texts[i][1]), normalize(texts[j][1])) for i, j in ((0, 1), (1, 2), (0, 2))}
    assert est[(0, 1)] > 0.75 and est[(1, 2)] > 0.75 and est[(0, 2)] < 0.6  # a real chain
    assert pl.status.tolist() == [KEPT, NEAR_DUPLICATE, NEAR_DUPLICATE]
    assert pl.kept_of.tolist() == [0, 0, 0]
    assert pl.matched.tolist() == [0, 0, 1]  # C matched B, not the kept A
    assert (pl.similarity[1:] >= 0.7).all()


def test_cli_drop_message_names_the_match_not_the_kept_record(tmp_path):
    rng = random.Random(3)
    a = _words(rng, 120)
    b = a[:40] + _words(rng, 18) + a[58:]
    c = b[:80] + _words(rng, 18) + b[98:]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"messages": [{"role": "user", "content": "write the list"},
                                                    {"role": "assistant", "content": " ".join(x)}]}) + "\n"
                           for x in (a, b, c)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = run_cli("dedup", str(src), "-o", str(out), "--on", "answer", "--workers", "1",
                "--report", str(tmp_path / "c.jsonl"))
    assert r.returncode == 0, r.stderr
    rej = {x["line"]: x for x in map(json.loads, (tmp_path / "out.rejects.jsonl").read_text().splitlines())}
    ids = [json.loads(x)["id"] for x in out.read_text().splitlines()]
    assert rej[3]["duplicate_of"] == ids[0] and rej[3]["matched"] == rej[2]["id"] and rej[3]["similarity"] >= 0.7
    assert "in.jsonl:2" in rej[3]["message"] and "in.jsonl:1" in rej[3]["message"]
    cluster = json.loads((tmp_path / "c.jsonl").read_text())
    assert [d["matched"] for d in cluster["dropped"]] == [ids[0], rej[2]["id"]]


# -------------------------------------------------------------------------------- real data
def _jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_exact_pairs_helper_agrees_with_brute_force():
    rng = random.Random(5)
    base = [" ".join(_words(rng, 20)) for _ in range(15)]
    texts = base + [t[:-3] + "xyz" for t in base[:8]] + [t.replace("a", "e", 1) for t in base[:5]]
    brute = {(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts)) if _jaccard(texts[i], texts[j]) >= 0.8}
    assert brute and {(i, j) for i, j, _ in pairs_at_least(texts, 0.8)} == brute
    bi, bj = (np.array(x, np.int64) for x in zip(*sorted(brute)))
    assert kept_by_exact_jaccard(texts, 0.8) == len(np.unique(g.connected_components(len(texts), bi, bj)))


@pytest.mark.slow
def test_real_toolformer_no_kept_pair_clearly_above_threshold(real):
    rows = json.loads((real / "gpteacher_toolformer_dedupe_only.json").read_text(encoding="utf-8"))
    recs = [((r["instruction"] + ("\n" + r["input"] if r.get("input") else "")).strip(), r["output"].strip())
            for r in rows]
    for on in ("conversation", "prompt"):
        pl = dedup_texts(recs, DedupConfig(on=on, threshold=0.8))
        kept = np.flatnonzero(pl.status == KEPT).tolist()
        text = [normalize(recs[i][0]) + ("" if on == "prompt" else normalize(recs[i][1])) for i in kept]
        assert pairs_at_least(text, 0.9) == [], on
        assert 500 < len(kept) < 4709  # the authors' greedy cleaning at 0.8 kept 4,709
        # every drop names a match that passed the threshold
        dropped = np.flatnonzero(pl.status == NEAR_DUPLICATE)
        assert (pl.similarity[dropped] >= 0.8).all()


def test_bucket_order_is_lexsort_by_bucket_key_index():
    """The one-sort order of the sorted-neighbour round equals `np.lexsort((mem, key, bucket))`
    on rows grouped by bucket with ascending members, with many equal keys (tied records must stay
    in index order) and with keys spanning the whole uint64 range."""
    from curator.dedup_graph import _by_bucket_then_key

    rng = np.random.default_rng(3)
    n = 5000
    for distinct in (3, 50, n):
        pool = rng.integers(0, np.iinfo(np.uint64).max, distinct, dtype=np.uint64, endpoint=True)
        keys = pool[rng.integers(0, distinct, n)]

        def key(m: np.ndarray) -> np.ndarray:
            return keys[m]

        sizes = rng.integers(2, 60, 300)
        mem = np.concatenate([np.sort(rng.choice(n, s, replace=False)) for s in sizes]).astype(np.int32)
        bid = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        assert np.array_equal(_by_bucket_then_key(mem, bid, key, n), np.lexsort((mem, key(mem), bid)))
