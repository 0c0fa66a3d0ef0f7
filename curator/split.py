"""Train / eval / test assignment: by ratio or count, stratified, deterministic, leak-free.

`assign(strata, sizes, seed)` is pure and needs only one small integer per record (its stratum),
so a split of millions of records keeps no texts. Stratification without per-stratum rounding
drift: records are shuffled by the seed, each gets its fractional rank inside its stratum
((position + 0.5) / stratum size), and the held-out splits take the lowest ranks overall. Every
stratum is then spread evenly over the cut, and the global counts are exact.

Leakage: an eval record that near-duplicates a train record measures memory, not skill. The
command reuses dedup's sketches and clusters (`curator.dedup.plan`); a cluster spanning several
splits is moved wholly into train (`--leakage move`) or only listed (`--leakage report`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def resolve_sizes(n: int, held_out: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Counts per held-out split: a size < 1 is a ratio of n, >= 1 a count. Train gets the rest."""
    out: dict[str, int] = {}
    for name, size in held_out:
        if size < 0:
            raise ValueError(f"{name} size {size} is negative")
        out[name] = int(round(size * n)) if size < 1 else int(size)
    if sum(out.values()) > n:
        raise ValueError(f"held-out sizes {out} add up to more than the {n} records")
    return out


def assign(strata: np.ndarray, sizes: dict[str, int], seed: int, names: Sequence[str]) -> np.ndarray:
    """Split index per record (0 = train, i = names[i]); `sizes` holds the held-out counts."""
    n = len(strata)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    # position of each record within its stratum, in shuffled order
    s_perm = strata[perm]
    order = np.argsort(s_perm, kind="stable")
    sorted_s = s_perm[order]
    new = np.concatenate(([True], sorted_s[1:] != sorted_s[:-1])) if n else np.empty(0, bool)
    gid = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    group_size = np.diff(np.append(starts, n))
    pos = np.arange(n) - starts[gid] if n else np.empty(0, np.int64)
    rank = np.empty(n, dtype=np.float64)
    rank[perm[order]] = (pos + 0.5) / group_size[gid] if n else pos
    # lowest ranks first; ties broken by the shuffle, so equal ranks are not taken in input order
    tie = np.empty(n, dtype=np.int64)
    tie[perm] = np.arange(n)
    take = np.lexsort((tie, rank))
    out = np.zeros(n, dtype=np.int8)
    at = 0
    for i, name in enumerate(names):
        if i == 0:
            continue
        k = sizes.get(name, 0)
        out[take[at:at + k]] = i
        at += k
    return out


def get_path(d: dict[str, Any], dotted: str) -> Any:
    """`meta.tags` -> d["meta"]["tags"], or None when any step is missing."""
    cur: Any = d
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def stratum_label(value: Any) -> str:
    """A hashable label for a stratify value: lists become 'a|b' (sorted), missing is '<none>'."""
    if value is None:
        return "<none>"
    if isinstance(value, (list, tuple)):
        return "|".join(sorted(str(v) for v in value)) or "<none>"
    return str(value)


def leaking_clusters(clusters: list[list[int]], split: np.ndarray) -> list[list[int]]:
    """Clusters (from dedup) whose members fall in more than one split."""
    return [c for c in clusters if len(set(split[c].tolist())) > 1]
