"""What a blind A/B review says: win rate with an interval, agreement between annotators, and
agreement between people and a pairwise LLM judge (Cohen's kappa), so a team knows whether the
judge can stand in for them. Also `curate eval --arena DB`, which prints and writes this.

Conventions: a tie counts half a win; "both bad" pairs are left out of the win rate (neither
model earned it) and out of human-judge agreement (a judge says A, B or tie), but kept in the
agreement between annotators, where "both bad" is one more category. The judge is asked in
both orders (the project's pairwise rubric does that) and a split verdict is a tie.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

WIN_VALUE = {"a": 1.0, "tie": 0.5, "b": 0.0}


def cohen_kappa(x: list[str], y: list[str]) -> float | None:
    """Cohen's kappa of two raters over the same items (None when chance agreement is total)."""
    if not x:
        return None
    cats = sorted(set(x) | set(y))
    n = len(x)
    po = sum(a == b for a, b in zip(x, y)) / n
    pe = sum((x.count(c) / n) * (y.count(c) / n) for c in cats)
    return None if pe >= 1 else (po - pe) / (1 - pe)


def win_rate(winners: list[str], *, resamples: int = 2000, seed: int = 0, confidence: float = 0.95) -> dict[str, Any]:
    """Model A's win rate over decided pairs (ties half), with a bootstrap interval."""
    vals = np.array([WIN_VALUE[w] for w in winners if w in WIN_VALUE])
    out: dict[str, Any] = {"pairs": len(winners), "a_wins": winners.count("a"), "b_wins": winners.count("b"),
                           "ties": winners.count("tie"), "both_bad": winners.count("both_bad")}
    if not len(vals):
        out["a_win_rate"] = None
        return out
    out["a_win_rate"] = float(vals.mean())
    if len(vals) > 1:
        rng = np.random.default_rng(seed)
        means = vals[rng.integers(0, len(vals), (resamples, len(vals)))].mean(axis=1)
        a = (1 - confidence) / 2
        out["ci"] = [float(np.quantile(means, a)), float(np.quantile(means, 1 - a))]
    return out


def verdict_line(w: dict[str, Any], a_name: str, b_name: str) -> str:
    rate = w.get("a_win_rate")
    if rate is None:
        return "no decided pairs yet"
    ci = w.get("ci")
    line = f"{a_name} wins {rate:.1%} against {b_name} (ties half) over {w['pairs'] - w['both_bad']} pairs"
    if ci:
        line += f", {int(round((1 - 0.05) * 100))}% interval [{ci[0]:.1%}, {ci[1]:.1%}]"
        if ci[0] > 0.5:
            line += f": {a_name} is better"
        elif ci[1] < 0.5:
            line += f": {b_name} is better"
        else:
            line += ": no clear winner yet"
    return line + f"; both bad: {w['both_bad']}"


def summarize(store: Any) -> dict[str, Any]:
    """The arena.json dict from a store's decisions and judge verdicts."""
    latest = store.latest()
    a_name, b_name = Path(store.info.get("a", "A")).name, Path(store.info.get("b", "B")).name
    pooled = [w for ann in sorted(latest) for w in latest[ann].values()]
    out: dict[str, Any] = {"a": store.info.get("a"), "b": store.info.get("b"), "annotators": sorted(latest),
                           "overall": win_rate(pooled),
                           "per_annotator": {ann: win_rate(list(d.values())) for ann, d in sorted(latest.items())}}
    out["verdict"] = verdict_line(out["overall"], a_name, b_name)
    agree = {}
    for x, y in combinations(sorted(latest), 2):
        common = sorted(set(latest[x]) & set(latest[y]))
        xs, ys = [latest[x][k] for k in common], [latest[y][k] for k in common]
        agree[f"{x} vs {y}"] = {"pairs": len(common),
                                "agreement": sum(a == b for a, b in zip(xs, ys)) / len(common) if common else None,
                                "kappa": cohen_kappa(xs, ys)}
    out["inter_annotator"] = agree
    judges = {}
    for rubric, verdicts in store.judge().items():
        per = {}
        for ann, d in sorted(latest.items()):
            common = [k for k in d if d[k] in WIN_VALUE and verdicts.get(k) is not None]
            hs, js = [d[k] for k in common], [verdicts[k] for k in common]
            per[ann] = {"pairs": len(common), "agreement": sum(a == b for a, b in zip(hs, js)) / len(common)
                        if common else None, "kappa": cohen_kappa(hs, js)}  # type: ignore[arg-type]
        judged = [v for v in verdicts.values() if v is not None]
        judges[rubric] = {"judged": len(judged), "unparseable": len(verdicts) - len(judged),
                          "judge_win_rate": win_rate(judged), "vs_annotators": per}
    out["judge"] = judges
    out["reasons_both_bad"] = [r for r in store.reasons() if r["winner"] == "both_bad"]
    out["decisions"] = store.decisions()  # all annotators, full history (a changed mind included)
    return out


def kappa_words(k: float | None) -> str:
    """Landis & Koch's words for a kappa, for the printed summary."""
    if k is None:
        return "undefined"
    return ("poor" if k < 0 else "slight" if k < 0.2 else "fair" if k < 0.4 else "moderate" if k < 0.6
            else "substantial" if k < 0.8 else "almost perfect")
