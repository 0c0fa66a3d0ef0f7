"""Exact character-n-gram Jaccard over a set of texts, without comparing every pair: the reference
the MinHash dedup is checked against (tests/test_dedup_graph.py, bench/dedup_bench.py --toolformer).

Prefix filtering (Chaudhuri et al., 2006): order each text's shingles rarest first; two sets with
Jaccard >= t share a shingle among the first |A| - ceil(t|A|) + 1 of either, so only pairs that
share such a prefix shingle are compared exactly. No false negatives, no estimates.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np


def shingles(text: str, n: int = 5) -> set[str]:
    return {text[i:i + n] for i in range(max(1, len(text) - n + 1))} if text else set()


def pairs_at_least(texts: list[str], t: float, n: int = 5) -> list[tuple[int, int, float]]:
    """Every pair (i, j, Jaccard) with i < j and exact n-gram Jaccard >= t."""
    sets = [shingles(x, n) for x in texts]
    freq = Counter(s for st in sets for s in st)
    index: dict[str, list[int]] = defaultdict(list)
    out = []
    for i in sorted(range(len(sets)), key=lambda k: len(sets[k])):  # smaller sets first
        s = sets[i]
        if not s:
            continue
        prefix = sorted(s, key=lambda x: (freq[x], x))[:len(s) - math.ceil(t * len(s)) + 1]
        cands = {j for tok in prefix for j in index[tok]}
        for tok in prefix:
            index[tok].append(i)
        for j in cands:
            inter = len(s & sets[j])
            jac = inter / (len(s) + len(sets[j]) - inter)
            if jac >= t:
                out.append((min(i, j), max(i, j), jac))
    return out


def kept_by_exact_jaccard(texts: list[str], t: float, n: int = 5) -> int:
    """Records left when every pair with exact Jaccard >= t is a match and each connected
    component keeps one record: what a dedup with perfect estimates and complete candidates keeps."""
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in pairs_at_least(texts, t, n):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return int(len(np.unique([find(i) for i in range(len(texts))])))
