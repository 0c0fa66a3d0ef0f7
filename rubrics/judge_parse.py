"""Strict parsers for LLM-judge verdicts.

A verdict either parses to exactly one in-range value or it is *unparseable* (`Verdict.value is
None` with a reason); the caller retries and finally records it as unparseable. Nothing here
ever falls back to 0 or to "the first number in the text": a judge that rambles without a
verdict must not quietly become the worst score.

Formats:
- ``mt_bench``: ``[[7]]`` (MT-Bench single-answer grading); also ``Rating: [[7]]``.
- ``prometheus``: ``... [RESULT] 4`` at the end (Prometheus absolute grading).
- ``pairwise``: ``[[A]]``, ``[[B]]`` or ``[[C]]`` (tie), MT-Bench pairwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"(-?\d+(?:\.\d+)?)"
_MT_BENCH = re.compile(r"\[\[\s*" + _NUM + r"\s*(?:/\s*\d+\s*)?\]\]")
_PROMETHEUS = re.compile(r"\[RESULT\]\s*\(?\s*" + _NUM + r"\s*\)?", re.I)
_PAIR = re.compile(r"\[\[\s*([ABC])\s*\]\]")


@dataclass(frozen=True, slots=True)
class Verdict:
    value: float | str | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None


def parse_rating(text: str, fmt: str, lo: float, hi: float) -> Verdict:
    """One numeric rating in [lo, hi] in the given format, or unparseable."""
    if fmt == "mt_bench":
        hits = _MT_BENCH.findall(text)
        want = "[[rating]]"
    elif fmt == "prometheus":
        hits = _PROMETHEUS.findall(text)
        want = "[RESULT] n"
    else:
        raise ValueError(f"unknown verdict format {fmt!r} (mt_bench, prometheus)")
    if not hits:
        return Verdict(None, f"no {want} verdict in the judge output")
    values = {float(h) for h in hits}
    if len(values) > 1:
        # "[[3]] ... on reflection [[4]]" — which one counts is a guess, so it is no verdict.
        return Verdict(None, f"conflicting verdicts {sorted(values)}")
    v = values.pop()
    if not lo <= v <= hi:
        return Verdict(None, f"verdict {v:g} is outside the scale {lo:g}..{hi:g}")
    return Verdict(v)


def parse_pair(text: str) -> Verdict:
    """'A', 'B' or 'C' (tie) from ``[[A]]``/``[[B]]``/``[[C]]``, or unparseable."""
    hits = set(_PAIR.findall(text))
    if not hits:
        return Verdict(None, "no [[A]]/[[B]]/[[C]] verdict in the judge output")
    if len(hits) > 1:
        return Verdict(None, f"conflicting verdicts {sorted(hits)}")
    return Verdict(hits.pop())


def combine_pair(first: Verdict, swapped: Verdict) -> Verdict:
    """Combine the verdict on (x as A, y as B) with the verdict on the swapped order (y as A,
    x as B) into 'x', 'y' or 'tie'. A judge that prefers whichever answer comes first says A
    both times, which cancels to a tie — that is the point of asking twice."""
    if not first.ok or not swapped.ok:
        bad = first if not first.ok else swapped
        return Verdict(None, bad.reason)
    x_wins = (first.value == "A") + (swapped.value == "B")
    y_wins = (first.value == "B") + (swapped.value == "A")
    if x_wins > y_wins:
        return Verdict("x", f"orders: {first.value}/{swapped.value}")
    if y_wins > x_wins:
        return Verdict("y", f"orders: {first.value}/{swapped.value}")
    return Verdict("tie", f"orders: {first.value}/{swapped.value}")
