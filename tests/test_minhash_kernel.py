"""The numba-compiled MinHash loop gives the numpy path's signatures bit for bit, and dedup's
output does not depend on which one ran."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curator import minhash as mh
from curator import minhash_kernel
from curator.textnorm import normalize_many
from tests.conftest import run_cli

pytest.importorskip("numba")

EDGES = ["", "a", "ab", "abcd", "abcde", "abcdef", "\0\0\0", "\0", "中", "中文", "中文字符串的测试", "😀" * 7,
         "\ud800lone surrogate", "x" * 5000, "a b c d e f", "\uffff\U0010ffff" * 4]


def _both(texts: list[str], params: mh.MinHashParams, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    compiled = minhash_kernel.kernel()
    assert compiled is not None
    return mh._signatures(texts, params, ngram), mh._signatures_numpy(texts, params, ngram)


@pytest.mark.parametrize("num_perm,ngram,seed", [(64, 5, 1), (64, 2, 1), (8, 1, 7), (128, 3, 42), (9, 13, 0)])
def test_compiled_signatures_equal_numpy_on_edge_cases(num_perm, ngram, seed):
    params = mh.MinHashParams(num_perm=num_perm, ngram=ngram, seed=seed)
    got, want = _both(EDGES + list(reversed(EDGES)), params, ngram)
    assert got.dtype == want.dtype == np.uint32 and got.shape == want.shape
    assert np.array_equal(got, want)
    assert (got[0] == mh.EMPTY).all()  # the empty text: no shingles
    assert (got[1:len(EDGES)] != mh.EMPTY).all()


def test_compiled_signatures_equal_numpy_on_real_text(real):
    texts = []
    for name in ("alpaca_en_demo.json", "alpaca_zh_demo.json", "gsm8k_train_alpaca.json"):
        rows = json.loads((real / name).read_text(encoding="utf-8"))[:1500]
        texts += [r.get("instruction", "") + "\n" + r.get("output", "") for r in rows]
    texts = normalize_many(texts)
    params = mh.MinHashParams()
    sizes = mh.shingle_sizes(texts, params)
    for n in np.unique(sizes).tolist():  # the CJK bigrams and the 5-grams
        got, want = _both([t for t, s in zip(texts, sizes) if s == n], params, n)
        assert np.array_equal(got, want)


def test_no_numba_switch_uses_numpy(monkeypatch):
    monkeypatch.setattr(minhash_kernel, "_state", {})
    monkeypatch.setenv("CURATOR_NO_NUMBA", "1")
    assert minhash_kernel.kernel() is None
    params = mh.MinHashParams(ngram_cjk=0)  # one n-gram size for every text
    assert np.array_equal(mh.signatures(EDGES, params), mh._signatures_numpy(EDGES, params, params.ngram))


def test_dedup_output_is_the_same_with_and_without_numba(real, tmp_path):
    rows = json.loads((real / "alpaca_zh_demo.json").read_text(encoding="utf-8"))[:600]
    rows += [dict(r, output=r["output"] + "。") for r in rows[:150]]  # near-duplicates to find
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    outs = []
    for tag, env in (("compiled", {}), ("numpy", {"CURATOR_NO_NUMBA": "1"})):
        out = tmp_path / tag / "out.jsonl"
        res = run_cli("dedup", str(src), "-o", str(out), env=env)
        assert res.returncode == 0, res.stderr
        outs.append((out.read_bytes(), out.with_name("out.rejects.jsonl").read_bytes()))
    assert outs[0] == outs[1]
    assert outs[0][1].count(b"\n") >= 100  # the edited copies were found


def test_compiled_band_keys_and_pair_similarity_equal_numpy(real, monkeypatch):
    rows = json.loads((real / "alpaca_en_demo.json").read_text(encoding="utf-8"))[:800]
    texts = normalize_many([r["output"] for r in rows] + [r["output"] + " x" for r in rows[:200]] + ["", "a"])
    params = mh.MinHashParams()
    sigs = mh.signatures(texts, params)
    rng = np.random.default_rng(5)
    a = rng.integers(0, len(texts), 300_000)
    b = rng.integers(0, len(texts), 300_000)
    b[:1000] = a[:1000]  # identical rows: similarity 1.0
    assert minhash_kernel.kernel() is not None and minhash_kernel.band_kernel() is not None
    got = [mh.band_keys(sigs, 12, 5), mh.band_keys(sigs[:, :40], 8, 5), mh.pair_similarity(sigs, a, b)]
    monkeypatch.setattr(minhash_kernel, "_state", {"fns": {}})  # numba "missing" from here on
    want = [mh.band_keys(sigs, 12, 5), mh.band_keys(sigs[:, :40], 8, 5), mh.pair_similarity(sigs, a, b)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)
    assert (got[2][:1000] == 1.0).all() and got[2][1000:].min() < 0.5


def test_no_writable_cache_location_compiles_in_memory(monkeypatch):
    """Where numba finds no cache location it can write (a read-only install and home), it raises
    when the loops are defined; they are then compiled in memory instead, with the same values."""
    import numba.core.caching as caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    with pytest.raises(RuntimeError):  # what numba does with cache=True and no locator
        minhash_kernel._define(__import__("numba"), cache=True)
    monkeypatch.setattr(minhash_kernel, "_state", {})
    assert minhash_kernel.warm()
    params = mh.MinHashParams(ngram_cjk=0)
    got = mh._signatures(EDGES * 10, params, params.ngram)  # loaded by warm(): the compiled loop runs
    assert minhash_kernel.loaded() is not None
    assert np.array_equal(got, mh._signatures_numpy(EDGES * 10, params, params.ngram))


def test_pair_similarity_threads_where_there_is_no_affinity_mask(monkeypatch):
    """macOS and Windows have no `os.sched_getaffinity`: the CPU count comes from `os.cpu_count`."""
    import os

    from curator.cpus import available_cpus

    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert available_cpus() == (os.cpu_count() or 1)
    sigs = mh.signatures(EDGES * 3, mh.MinHashParams())
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, len(sigs), 200_000), rng.integers(0, len(sigs), 200_000)
    minhash_kernel.warm()
    got = mh.pair_similarity(sigs, a, b)
    assert np.array_equal(got, mh.estimate_jaccard(sigs[a], sigs[b]))
