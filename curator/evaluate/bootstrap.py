"""Bootstrap confidence intervals: resample the records with replacement, recompute the metric.

A task exposes ``sums(weights) -> vector`` (additive statistics, each record weighted by how
many times the resample drew it) and ``summarize(vector) -> {metric: value}``, so one resample
costs a `bincount` and a small matrix product instead of a pass over the records. Percentile
intervals; the standard error is kept too so `--compare` can combine two runs.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Summable(Protocol):
    def sums(self, w: np.ndarray) -> np.ndarray: ...
    def summarize(self, s: np.ndarray) -> dict[str, float]: ...


def with_intervals(task: Summable, n: int, *, resamples: int = 1000, seed: int = 0,
                   confidence: float = 0.95) -> dict[str, dict[str, Any]]:
    """{metric: {"value", "ci": [lo, hi], "se"}} — no ci/se when `resamples` is 0 or n < 2."""
    point = task.summarize(task.sums(np.ones(n)))
    out: dict[str, dict[str, Any]] = {k: {"value": v} for k, v in point.items()}
    if resamples <= 0 or n < 2:
        return out
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(resamples):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        for k, v in task.summarize(task.sums(w)).items():
            if k in draws:
                draws[k].append(v)
    alpha = (1 - confidence) / 2
    for k, vals in draws.items():
        arr = np.asarray(vals)
        if len(arr) < resamples:  # a metric undefined in some resamples (e.g. no judge scores drawn)
            continue
        lo, hi = np.quantile(arr, [alpha, 1 - alpha])
        out[k]["ci"] = [float(lo), float(hi)]
        out[k]["se"] = float(arr.std(ddof=1))
    return out
