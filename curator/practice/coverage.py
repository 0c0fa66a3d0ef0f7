"""Near-matches of a small set (badcases, an eval set) against a large one (the training data).

The small side is kept in memory: its prompts' MinHash signatures and LSH band keys (the same
character-shingle MinHash as `curate dedup`, so Chinese works). The large side is streamed in
batches; each batch is sketched, its band keys are looked up among the small side's buckets, and
candidate pairs are verified by their estimated Jaccard. Memory is flat in the size of the large
side; the best match per small-side record is kept (similarity and id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from curator.minhash import EMPTY, MinHashParams, band_keys, optimal_bands, signatures
from curator.record import Conversation
from curator.textnorm import normalize

_BATCH = 4096


def prompt_of(conv: Conversation) -> str:
    """What a record is near by: its prompt side (system, user and tool text), as dedup compares."""
    return "\n".join(m.content for m in conv.prompt_messages() if m.role != "assistant" and m.content)


@dataclass
class Coverage:
    ids: list[str]
    best: np.ndarray  # best estimated Jaccard per small-side record
    match: list[str | None] = field(default_factory=list)  # id of the best match (None: none near)
    threshold: float = 0.5

    @property
    def covered(self) -> int:
        return int((self.best >= self.threshold).sum())

    def uncovered(self) -> list[str]:
        return [i for i, b in zip(self.ids, self.best.tolist()) if b < self.threshold]


class NearIndex:
    def __init__(self, ids: list[str], texts: list[str], threshold: float,
                 params: MinHashParams = MinHashParams()) -> None:
        self.ids, self.threshold, self.params = ids, threshold, params
        self.bands, self.rows = optimal_bands(threshold, params.num_perm)
        self.sig = signatures([normalize(t) for t in texts], params)
        keys = band_keys(self.sig, self.bands, self.rows)
        self.buckets: dict[tuple[int, int], list[int]] = {}
        for i in np.flatnonzero(self.sig[:, 0] != EMPTY).tolist():
            for j in range(self.bands):
                self.buckets.setdefault((j, int(keys[i, j])), []).append(i)
        self.band_keys = [np.unique(np.array([k for (b, k) in self.buckets if b == j], dtype=np.uint64))
                          for j in range(self.bands)]
        self.best = np.zeros(len(ids))
        self.match: list[str | None] = [None] * len(ids)

    def scan(self, ids: list[str], texts: list[str]) -> None:
        """Compare one batch of the large side; keep each small-side record's best match."""
        if not self.buckets:
            return
        sig = signatures([normalize(t) for t in texts], self.params)
        keys = band_keys(sig, self.bands, self.rows)
        nonempty = sig[:, 0] != EMPTY
        pairs: set[tuple[int, int]] = set()
        for j in range(self.bands):  # vectorised first cut: rows whose band key any small record has
            for r in np.flatnonzero(np.isin(keys[:, j], self.band_keys[j]) & nonempty).tolist():
                for i in self.buckets.get((j, int(keys[r, j])), ()):
                    pairs.add((i, r))
        for i, r in pairs:
            sim = float((self.sig[i] == sig[r]).mean())
            if sim > self.best[i]:
                self.best[i], self.match[i] = sim, ids[r]

    def result(self) -> Coverage:
        return Coverage(self.ids, self.best, self.match, self.threshold)


def near_coverage(small: list[Conversation], large: Iterable[Conversation], threshold: float) -> Coverage:
    """For each record of `small`, its best prompt match in `large` (streamed)."""
    index = NearIndex([c.id for c in small], [prompt_of(c) for c in small], threshold)
    ids: list[str] = []
    texts: list[str] = []
    for conv in large:
        ids.append(conv.id)
        texts.append(prompt_of(conv))
        if len(ids) >= _BATCH:
            index.scan(ids, texts)
            ids, texts = [], []
    if ids:
        index.scan(ids, texts)
    return index.result()
