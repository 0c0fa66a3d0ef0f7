"""Semantic near-duplicates (`curate dedup --semantic THRESHOLD`): embedding neighbours.

MinHash finds copies that share characters; this finds records that say the same thing in other
words ("How do I reverse a list in Python?" / "Python: reversing a list?"). Records are visited in
keep priority (`--keep first|longest|best-score`); one is dropped when its cosine similarity to an
already kept record is at or above the threshold, and the drop names that record and the value.
The greedy walk is the same one `select` uses (`curator.select._greedy`, blocked matrix products).

- **Exact** up to `EXACT_MAX` records: every record is compared with every kept one.
- **Partitioned** above it (SemDeDup's recipe): spherical k-means into ~sqrt(n) clusters, then
  the exact walk inside each cluster. A pair split across two clusters is missed; on real data
  this loses a few percent of the pairs a full comparison finds (recall measured in
  bench/select_bench.py) for a cost that grows as n*sqrt(n) instead of n^2 — 100,000 records
  in seconds. numpy only, deterministic for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EXACT_MAX = 12_000
_BLOCK = 8192


@dataclass
class SemanticPlan:
    kept_of: np.ndarray       # int64: the kept record a dropped one duplicates (-1 when kept)
    similarity: np.ndarray    # float32 cosine similarity to it
    method: str               # exact | partitioned
    clusters: int

    @property
    def dropped(self) -> int:
        return int((self.kept_of >= 0).sum())


def _assign(x: np.ndarray, cent: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x), dtype=np.int64)
    for s in range(0, len(x), _BLOCK):
        out[s: s + _BLOCK] = (x[s: s + _BLOCK] @ cent.T).argmax(axis=1)
    return out


def kmeans(x: np.ndarray, k: int, *, iters: int = 6, seed: int = 0, fit_max: int = 20_000) -> np.ndarray:
    """Cluster of each row by spherical k-means (unit centroids, cosine assignment); deterministic.
    Centroids are fitted on a seeded sample of at most `fit_max` rows (the partition only needs
    to be good, not optimal), then every row is assigned once: ~3x less work at 100,000 rows."""
    rng = np.random.default_rng(seed)
    fit = x if len(x) <= fit_max else x[np.sort(rng.choice(len(x), size=fit_max, replace=False))]
    cent = fit[np.sort(rng.choice(len(fit), size=k, replace=False))].astype(np.float32)
    for _ in range(iters):
        assign = _assign(fit, cent)
        sums = np.zeros_like(cent)
        _add_rows(sums, assign, fit)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] < 1e-12
        cent = np.where(empty[:, None], cent, sums / np.maximum(norms, 1e-12))
    return _assign(x, cent)


def _add_rows(sums: np.ndarray, assign: np.ndarray, x: np.ndarray) -> None:
    """sums[c] += x[i] for assign[i] == c, via one sort (np.add.at is slow on large inputs)."""
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(len(sums) + 1))
    xs = x[order]
    for c in range(len(sums)):
        if bounds[c + 1] > bounds[c]:
            sums[c] = xs[bounds[c]: bounds[c + 1]].sum(axis=0)


def semantic_plan(vectors: np.ndarray, priority: np.ndarray, threshold: float, *, seed: int = 0,
                  exact_max: int = EXACT_MAX) -> SemanticPlan:
    """Decide which records are semantic duplicates. `priority`: higher is kept first (ties: input order)."""
    from curator.select import TOO_CLOSE, _greedy, one_blas_thread

    n = len(vectors)
    status = np.full(n, -1, dtype=np.int8)
    neighbour = np.full(n, -1, dtype=np.int64)
    sim = np.zeros(n, dtype=np.float32)
    ranked_all = np.argsort(-priority, kind="stable")
    if n <= exact_max:
        groups, method, k = [ranked_all], "exact", 1
    else:
        k = max(2, int(math.sqrt(n)))
        assign = kmeans(vectors, k, seed=seed)
        # each cluster's members in global priority order
        order = ranked_all[np.argsort(assign[ranked_all], kind="stable")]
        bounds = np.searchsorted(assign[order], np.arange(k + 1))
        groups = [order[bounds[c]: bounds[c + 1]] for c in range(k) if bounds[c + 1] > bounds[c]]
        method = "partitioned"
    # "at or above the threshold" is a duplicate; _greedy drops strictly above, so nudge it down
    thr = float(np.nextafter(np.float32(threshold), np.float32(-1)))
    with one_blas_thread():
        for members in groups:
            _greedy(vectors, members, len(members), thr, status, neighbour, sim, None, None)
    kept_of = np.where(status == TOO_CLOSE, neighbour, -1)
    return SemanticPlan(kept_of=kept_of, similarity=np.where(kept_of >= 0, sim, 0).astype(np.float32),
                        method=method, clusters=k)


def run_semantic(run, read, reread, *, on: str, keep: str, score_key: str | None, threshold: float, embedder,
                 seed: int = 0) -> None:
    """The `dedup --semantic` body: pass 1 texts + priorities, embed (store beside the output), plan,
    pass 2 writes kept records and rejects each duplicate with `duplicate_of` and `similarity`."""
    import time

    from curator.dedup import describe, record_score, record_texts
    from curator.embed_store import embed_texts, save_store
    from curator.errors import UsageError

    t0 = time.perf_counter()
    ids, origins, texts, prio = [], [], [], []
    for conv in read():
        p, a = record_texts(conv)
        text = p if on == "prompt" else a if on == "answer" else p + "\n" + a
        ids.append(conv.id)
        origins.append(conv.origin)
        texts.append(text)
        prio.append(len(text) if keep == "longest" else record_score(conv, score_key) if keep == "best-score" else 0.0)
    estats: dict = {}
    vectors, keys = embed_texts(texts, embedder, cache=run.out, stats=estats)
    del texts
    t_embed = time.perf_counter() - t0
    pl = semantic_plan(vectors, np.asarray(prio, dtype=np.float64), threshold, seed=seed)
    t_plan = time.perf_counter() - t0 - t_embed
    i = 0
    for conv in reread():
        if i >= len(ids) or conv.id != ids[i]:
            raise UsageError(f"the input changed while dedup was reading it (record {i + 1} differs); run again")
        k = int(pl.kept_of[i])
        if k < 0:
            conv.add_lineage("dedup")
            run.write(conv)
        else:
            s = round(float(pl.similarity[i]), 4)
            run.rejects.reject(conv, "semantic_duplicate",
                               f"semantic near-duplicate (cosine similarity {s:.3f} >= {threshold}) of "
                               f"{describe(origins[k], ids[k])}, which is kept", duplicate_of=ids[k], similarity=s)
        i += 1
    if i != len(ids):
        raise UsageError("the input changed while dedup was reading it (fewer records on the second pass)")
    if run.out is not None:
        save_store(run.out, vectors, keys, embedder.identity(), ids=ids,
                   status=["kept" if k < 0 else "semantic_duplicate" for k in pl.kept_of.tolist()])
    run.extra["dedup"] = {"semantic": {"threshold": threshold, "on": on, "keep": keep, "method": pl.method,
                                       "clusters": pl.clusters, "dropped": pl.dropped, "embedder": embedder.identity(),
                                       "embeddings": estats,
                                       "seconds": {"embed": round(t_embed, 3), "plan": round(t_plan, 3)}}}
