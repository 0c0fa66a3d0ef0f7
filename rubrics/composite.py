"""Composite rubrics: a recipe of gates (must pass) and weighted terms.

Recipe (YAML, loaded with yaml.safe_load)::

    name: quality
    gates:                      # any failing gate -> not passed, terms not even computed
      - rule: no_refusal
      - rule: length_band
        params: {min_chars: 20, max_chars: 4000}
    terms:                      # weighted mean of the terms' values
      - rule: language_match
        weight: 1
      - judge: helpfulness      # a shipped rubric name or a rubric file path
        weight: 2
      - reward_model: ./rm      # a local sequence-classification model (path or id)
        weight: 1
      - function: mypkg.scorers:brevity
        weight: 0.5
    normalize: none             # or zscore: per prompt, across that prompt's candidates
    min_value: 0.6              # optional: passed also needs value >= min_value

Gates run first so that expensive judges and reward models never see a candidate that a cheap
rule already ruled out. Term values with a known range (rules 0..1, judges lo..hi) are mapped
onto 0..1 before weighting; reward-model scales differ between models, which is what `zscore`
(per prompt) is for. A term with no verdict (unparseable judge, backend error) makes the
composite unparseable too, rather than letting a missing term count as 0.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Sequence

from curator.record import Conversation, Message
from rubrics.base import GATED, OK, Rubric, Score


@dataclass
class Term:
    rubric: Rubric
    weight: float = 1.0


def _unit(value: float, rng: tuple[float, float] | None) -> float:
    if rng is None:
        return value
    lo, hi = rng
    return (value - lo) / (hi - lo)


class CompositeRubric(Rubric):
    def __init__(self, name: str, gates: Sequence[Rubric] = (), terms: Sequence[Term] = (),
                 normalize: str = "none", min_value: float | None = None):
        if normalize not in ("none", "zscore"):
            raise ValueError(f"normalize must be none or zscore, not {normalize!r}")
        if not gates and not terms:
            raise ValueError("a recipe needs at least one gate or term")
        self.name = name
        self.gates = list(gates)
        self.terms = list(terms)
        self.normalize = normalize
        self.min_value = min_value
        self.range = (0.0, 1.0) if normalize == "none" and all(t.rubric.range for t in self.terms) else None
        self.blocking = any(r.blocking for r in self.components())

    def components(self):
        return [*self.gates, *(t.rubric for t in self.terms)]

    async def ascore_group(self, conv: Conversation, candidates: Sequence[Message]) -> list[Score]:
        n = len(candidates)
        parts: list[dict[str, Score]] = [{} for _ in range(n)]
        alive = list(range(n))
        for gate in self.gates:
            if not alive:
                break
            scores = await gate.ascore_group(conv, [candidates[i] for i in alive])
            still = []
            for i, s in zip(alive, scores):
                parts[i][gate.name] = s
                if s.passed:
                    still.append(i)
            alive = still
        if alive and self.terms:
            results = await asyncio.gather(*(t.rubric.ascore_group(conv, [candidates[i] for i in alive]) for t in self.terms))
            for t, scores in zip(self.terms, results):
                for i, s in zip(alive, scores):
                    parts[i][t.rubric.name] = s
        return self._combine(parts, set(alive))

    def score_group(self, conv: Conversation, candidates: Sequence[Message]) -> list[Score]:
        for r in self.components():
            if hasattr(r, "_sem"):
                r._sem = None  # semaphores are per event loop
        return asyncio.run(self.ascore_group(conv, candidates))

    def score_batch(self, items: Sequence[tuple[Conversation, Message]]) -> list[Score]:
        return [self.score_group(c, [m])[0] for c, m in items]

    def _combine(self, parts: list[dict[str, Score]], alive: set[int]) -> list[Score]:
        n = len(parts)
        # Per-term values on one scale, then (optionally) z-normalised across this prompt's candidates.
        term_vals: list[list[float | None]] = []
        for t in self.terms:
            vals = []
            for i in range(n):
                s = parts[i].get(t.rubric.name)
                vals.append(_unit(s.value, t.rubric.range) if (i in alive and s is not None and s.ok) else None)
            if self.normalize == "zscore":
                vals = _zscore(vals)
            term_vals.append(vals)
        out = []
        for i in range(n):
            p = parts[i]
            if i not in alive:
                failed = next(name for name, s in p.items() if not s.passed)
                out.append(Score(None, False, f"gate {failed} failed: {p[failed].explanation}", GATED, p))
                continue
            bad = [name for name, s in p.items() if not s.ok and name in {t.rubric.name for t in self.terms}]
            if bad:
                s0 = p[bad[0]]
                out.append(Score(None, False, f"{bad[0]}: {s0.explanation}", s0.status, p))
                continue
            if self.terms:
                wsum = sum(t.weight for t in self.terms)
                value = sum(t.weight * term_vals[k][i] for k, t in enumerate(self.terms)) / wsum
            else:
                value = 1.0
            passed = self.min_value is None or value >= self.min_value
            expl = ", ".join(f"{name}={s.value:.3g}" for name, s in p.items() if s.value is not None)
            out.append(Score(round(value, 6), passed, expl, OK, p))
        return out


def _zscore(vals: list[float | None]) -> list[float | None]:
    present = [v for v in vals if v is not None]
    if not present:
        return vals
    mean = sum(present) / len(present)
    sd = math.sqrt(sum((v - mean) ** 2 for v in present) / len(present))
    return [None if v is None else (0.0 if sd == 0 else (v - mean) / sd) for v in vals]
