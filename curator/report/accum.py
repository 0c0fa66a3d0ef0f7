"""Compact accumulators: the report streams its input once and keeps only these.

- `LogHistogram`: counts in 4 buckets per power of two (quantiles within ~19%), plus exact
  count / sum / min / max. A few hundred ints whatever the data size.
- `ValueHistogram`: scores of unknown range; values rounded to 3 significant digits, re-binned
  for display at the end (rounded to fewer digits there when more than `limit` distinct values
  were seen, so the result does not depend on the order the values came in).
- `Distinct`: distinct-count estimate by k minimum values (KMV) of 64-bit hashes: exact while
  fewer than `k` distinct items were seen, then a ~1/sqrt(k) relative error (k=4096: ~1.6%).
- `TopCounter`: a Counter that stops adding new keys past `limit` (the rest go to "(other)"),
  so a field with a unique value per record cannot grow without bound.
- `HashLog`: 8 bytes per record (an array of 64-bit hashes) for the exact-duplicate rate: the
  one accumulator that grows with the input, 80 MB for 10 M records, sorted once at the end.

Every accumulator has `merge(other)`: `curate report` counts byte ranges of a file in worker
processes and merges their accumulators in file order; the merged one equals the one a single
process fills record by record (counters keep first-seen order, so ties in `most_common` order
the same; capped counters admit exactly the keys the single pass admits).
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from typing import Any, Hashable

import numpy as np
import xxhash

_PER_OCTAVE = 4


class LogHistogram:
    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.n = 0
        self.total = 0.0
        self.min: float | None = None
        self.max: float | None = None

    @staticmethod
    def bucket(x: float) -> int:
        return 0 if x <= 0 else 1 + int(math.log2(x + 1) * _PER_OCTAVE)

    @staticmethod
    def upper(b: int) -> float:
        return 0.0 if b == 0 else 2 ** (b / _PER_OCTAVE) - 1

    def add(self, x: float) -> None:
        # small whole numbers (lengths, the common case) by table, the same buckets as `bucket`
        self.buckets[_SMALL[x] if type(x) is int and 0 <= x < _SMALL_N else self.bucket(x)] += 1
        self.n += 1
        self.total += x
        self.min = x if self.min is None or x < self.min else self.min
        self.max = x if self.max is None or x > self.max else self.max

    def merge(self, other: "LogHistogram") -> None:
        self.buckets.update(other.buckets)
        self.n += other.n
        self.total += other.total
        for x in (other.min, other.max):
            if x is not None:
                self.min = x if self.min is None or x < self.min else self.min
                self.max = x if self.max is None or x > self.max else self.max

    def quantile(self, q: float) -> float:
        """Upper edge of the bucket holding the q-quantile, clipped to the exact min/max."""
        if not self.n:
            return 0.0
        need = q * self.n
        seen = 0
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            if seen >= need:
                return round(float(min(max(self.upper(b), self.min or 0), self.max or 0)), 1)
        return float(self.max or 0)

    def octaves(self) -> list[tuple[str, int]]:
        """Display bins: 0, 1, 2-3, 4-7, 8-15, ... (powers of two)."""
        bins: Counter[int] = Counter()
        for b, c in self.buckets.items():
            # value range of fine bucket b starts at 2**((b-1)/4)-1 -> its octave
            lo = 0.0 if b == 0 else 2 ** ((b - 1) / _PER_OCTAVE) - 1
            bins[-1 if b == 0 else int(math.log2(math.floor(lo) + 1))] += c
        out = []
        if not bins:
            return out
        for o in range(min(bins), max(bins) + 1):
            if o == -1:
                out.append(("0", bins[o]))
                continue
            lo, hi = 2 ** o, 2 ** (o + 1) - 1
            out.append((_short(lo) if lo == hi else f"{_short(lo)}-{_short(hi)}", bins[o]))
        return out

    def summary(self) -> dict[str, Any]:
        if not self.n:
            return {"n": 0}
        return {"n": self.n, "mean": round(self.total / self.n, 1), "min": self.min, "p50": self.quantile(0.5),
                "p90": self.quantile(0.9), "p99": self.quantile(0.99), "max": self.max,
                "histogram": self.octaves()}


def _short(x: float) -> str:
    x = int(x)
    if x >= 1_000_000:
        return f"{x / 1_000_000:g}M" if x % 100_000 == 0 else f"{x / 1_000_000:.1f}M"
    if x >= 10_000:
        return f"{x // 1000}k"
    return str(x)


_SMALL_N = 1 << 16
_SMALL = [LogHistogram.bucket(i) for i in range(_SMALL_N)]


class ValueHistogram:
    def __init__(self, limit: int = 5000) -> None:
        self.values: Counter[float] = Counter()  # value rounded to 3 significant digits -> count
        self.limit = limit
        self.n = 0

    def add(self, x: float) -> None:
        if not math.isfinite(x):
            return
        self.n += 1
        self.values[_round_sig(x, 3)] += 1

    def merge(self, other: "ValueHistogram") -> None:
        self.n += other.n
        self.values.update(other.values)

    def _display_values(self) -> Counter[float]:
        """The values at 3 significant digits, or fewer when there are more than `limit` of them
        (3 digits keep at most ~900 keys per power of ten, so memory stays bounded)."""
        values, digits = self.values, 3
        while len(values) > self.limit and digits > 1:
            digits -= 1
            fewer: Counter[float] = Counter()
            for v, c in values.items():
                fewer[_round_sig(v, digits)] += c
            values = fewer
        return values

    def summary(self, bins: int = 20) -> dict[str, Any]:
        if not self.n:
            return {"n": 0}
        values = self._display_values()
        lo, hi = min(values), max(values)
        total = sum(v * c for v, c in values.items())
        if len(values) <= bins:  # few distinct values (e.g. 1-5 ratings): one bar each
            hist = [(f"{v:g}", c) for v, c in sorted(values.items())]
        else:
            width = (hi - lo) / bins
            counts = [0] * bins
            for v, c in values.items():
                counts[min(int((v - lo) / width), bins - 1)] += c
            hist = [(f"{lo + i * width:.3g}", c) for i, c in enumerate(counts)]
        return {"n": self.n, "mean": round(total / self.n, 4), "min": lo, "max": hi, "histogram": hist}


def _round_sig(x: float, digits: int) -> float:
    if x == 0:
        return 0.0
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


class Distinct:
    """Distinct-count estimate by k minimum values (KMV)."""

    def __init__(self, k: int = 4096) -> None:
        self.k = k
        self._heap: list[int] = []  # negated hashes: a max-heap of the k smallest
        self._set: set[int] = set()

    def add(self, item: str) -> None:
        self.add_hash(xxhash.xxh3_64_intdigest(item.encode("utf-8", "surrogatepass")))

    def add_hashes(self, hs: Any) -> None:
        """Add many hashes (a numpy uint64 array). Once the heap is full, only hashes below its
        current maximum can enter; the maximum only falls, so screening by it first keeps the
        result of adding them one by one."""
        if len(self._heap) >= self.k:
            hs = hs[hs < np.uint64(-self._heap[0])]
        for h in hs.tolist():
            self.add_hash(h)

    def add_hash(self, h: int) -> None:
        """Add an item by its (uniform) 64-bit hash."""
        heap = self._heap
        if len(heap) >= self.k and h >= -heap[0]:  # the common case once full: not among the k smallest
            return
        if h in self._set:
            return
        if len(heap) < self.k:
            heapq.heappush(self._heap, -h)
            self._set.add(h)
        elif h < -self._heap[0]:
            out = -heapq.heappushpop(self._heap, -h)
            self._set.discard(out)
            self._set.add(h)

    def merge(self, other: "Distinct") -> None:
        """The k smallest distinct hashes of both: those of the union of their inputs."""
        keep = heapq.nsmallest(self.k, self._set | other._set)
        self._set = set(keep)
        self._heap = [-h for h in keep]
        heapq.heapify(self._heap)

    def kept_hashes(self) -> list[int]:
        """The k smallest distinct hashes seen so far, ascending: the whole state the estimate
        reads (two sketches that keep the same hashes give the same estimate)."""
        return sorted(-h for h in self._heap)

    @property
    def is_estimate(self) -> bool:
        """True once k hashes are kept: from then on `estimate()` is an estimate, before it an exact count."""
        return len(self._heap) >= self.k

    def estimate(self) -> float:
        if len(self._heap) < self.k:
            return float(len(self._heap))
        kth = -self._heap[0]
        return (self.k - 1) / ((kth + 1) / 2 ** 64)


class TopCounter:
    def __init__(self, limit: int = 10_000) -> None:
        self.counts: Counter[Hashable] = Counter()
        self.limit = limit

    def add(self, key: Hashable, n: int = 1) -> None:
        if key in self.counts or len(self.counts) < self.limit:
            self.counts[key] += n
        else:
            self.counts["(other)"] += n

    def merge(self, other: "TopCounter") -> None:
        """Add a later part's counts: a key this counter would not have admitted goes to "(other)",
        as it would have when added one by one (keys are replayed in the order they were first seen).
        Exact when `other` was not capped (`limit=math.inf`): a key admitted early in the file may
        come back in a later part after that part's own cap was reached."""
        for key, n in other.counts.items():
            self.add(key, n)

    def top(self, n: int = 20) -> list[tuple[Any, int]]:
        return self.counts.most_common(n)


class HashLog:
    def __init__(self) -> None:
        self.hashes = array("Q")

    def add(self, text: str) -> None:
        self.hashes.append(xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass")))

    def merge(self, other: "HashLog") -> None:
        self.hashes.extend(other.hashes)

    def duplicates(self) -> int:
        """Records whose key was already seen (a group of 3 identical records counts 2)."""
        s = np.sort(np.frombuffer(self.hashes, dtype=np.uint64)) if len(self.hashes) else np.empty(0, np.uint64)
        return int(np.count_nonzero(s[1:] == s[:-1]))


__all__ = ["LogHistogram", "ValueHistogram", "Distinct", "TopCounter", "HashLog"]
