"""`curate select`: keep the best, most diverse N records — quality x diversity to a data budget.

A whole-dataset plan over compact per-record state (a score, a group, an embedding row; never
the records themselves), then a second pass writes what was chosen:

- **deita** (default): DEITA's score-first greedy. Records are taken best score first; one is kept
  only if its cosine similarity to every record already kept is at most `threshold` (a distance
  of at least 1 - threshold); otherwise it is `too_close`, and the verdict names the kept
  neighbour and the similarity. Candidates are checked in blocks (one matrix product against
  everything kept, then the block against itself in order), so 100,000 -> 5,000 is a few
  BLAS calls, not 100,000 Python loops.
- **kcenter**: k-center greedy (Sener & Savarese's core-set): start from the best-scored record,
  then repeatedly add the record farthest from everything chosen; it maximises coverage and
  ignores score after the first pick. O(N x budget) — fine to ~10^5 x 10^3.
- **score**: top-N by score only, the no-diversity baseline.

Quotas (`balance`): each group (a meta field's value, e.g. ``meta.source``; for a list such as
``meta.tags`` a record counts in its rarest tag) gets a fair share of the budget by water-filling
— a group smaller than its share gives its slack to the others — so a small group is not
swamped by a large one. When too_close verdicts leave the budget unmet, full groups are
reopened round by round until it is met or nothing is left.

Contaminated records (see `curator.decontam`) are never candidates. Every record ends with one
status: selected, below_budget, too_close, quota_full or contaminated.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Sequence, get_args

import numpy as np

from curator.config_check import Bounds, check_config
from curator.errors import UsageError

Method = Literal["deita", "kcenter", "score"]
METHODS = get_args(Method)
SELECTED, BELOW_BUDGET, TOO_CLOSE, QUOTA_FULL, CONTAMINATED = 0, 1, 2, 3, 4
STATUS = {SELECTED: "selected", BELOW_BUDGET: "below_budget", TOO_CLOSE: "too_close", QUOTA_FULL: "quota_full",
          CONTAMINATED: "contaminated"}
_BLOCK = 256


@dataclass
class SelectConfig:
    """What `select` keeps. Validates itself, so the CLI, a recipe and Python get the same checks."""

    budget: Annotated[int | None, Bounds(1)] = None  # keep this many records
    fraction: Annotated[float | None, Bounds(0, 1, lo_open=True, example="0.1")] = None  # or this share
    method: Method = "deita"
    threshold: Annotated[float, Bounds(0, 1, lo_open=True, example="0.9")] = 0.9  # deita: max cosine to anything kept
    score: str | None = None            # meta.scores key, "mean", or a weighted sum "0.7*helpfulness+0.3*ifd"
    balance: str | None = None          # meta field whose values get fair quotas (meta.tags, meta.source, task)
    embed_on: Literal["prompt", "conversation"] = "prompt"  # what is embedded
    against: list[str] = field(default_factory=list)
    ngram: Annotated[int, Bounds(3, example="13")] = 13  # decontamination n-gram (words; CJK characters)
    seed: int = 0                       # order among equal scores

    def __post_init__(self) -> None:
        if (self.budget is None) == (self.fraction is None):
            raise UsageError("give exactly one of --budget N or --fraction F")
        check_config(self)
        if self.balance == "task":
            self.balance = "meta.task"
        if self.balance and not self.balance.startswith("meta."):
            raise UsageError(f"--balance {self.balance!r}: a meta field such as meta.tags, meta.source or task")
        parse_score(self.score)  # validates the spelling

    def target(self, candidates: int) -> int:
        if self.budget is not None:
            return min(self.budget, candidates)
        return min(candidates, max(1, round(self.fraction * candidates))) if candidates else 0


# ------------------------------------------------------------------------------------ scores
def parse_score(spec: str | None) -> list[tuple[float, str]] | None:
    """'helpfulness' -> [(1, helpfulness)]; '0.7*a+0.3*b' -> [(0.7, a), (0.3, b)]; None/'mean' -> None."""
    if spec is None or spec == "mean":
        return None
    terms = []
    for part in spec.replace(" ", "").split("+"):
        w, star, key = part.rpartition("*")
        try:
            weight = float(w) if star else 1.0
        except ValueError:
            raise UsageError(f"--score {spec!r}: write a key or a weighted sum like 0.7*helpfulness+0.3*ifd") from None
        if not key:
            raise UsageError(f"--score {spec!r}: empty key")
        terms.append((weight, key))
    return terms


def record_score(scores: Any, terms: list[tuple[float, str]] | None) -> float:
    """The record's quality from meta.scores (NaN when a needed key is missing or not a number)."""
    if not isinstance(scores, dict):
        return math.nan
    if terms is None:
        vals = [float(v) for v in scores.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return sum(vals) / len(vals) if vals else math.nan
    total = 0.0
    for w, key in terms:
        v = scores.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return math.nan
        total += w * float(v)
    return total


def meta_field(meta: dict[str, Any], path: str) -> Any:
    """`meta.a.b` -> meta['a']['b'] (None when absent)."""
    cur: Any = meta
    for part in path.split(".")[1:]:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def assign_groups(values: Sequence[Any]) -> list[str]:
    """One group per record; a list value (tags) counts in its rarest member, so rare tags get a share."""
    freq: Counter[str] = Counter()
    for v in values:
        for x in (v if isinstance(v, list) else [v]):
            freq[str(x)] += 1
    out = []
    for v in values:
        if isinstance(v, list) and v:
            out.append(min((str(x) for x in v), key=lambda x: (freq[x], x)))
        elif v is None or v == []:
            out.append("(none)")
        else:
            out.append(str(v))
    return out


def fair_quotas(sizes: dict[str, int], budget: int) -> dict[str, int]:
    """Water-filling: equal shares, a group smaller than its share keeps all it has and the slack
    goes to the rest; leftovers from rounding go to the largest groups (then by name)."""
    quotas = {g: 0 for g in sizes}
    open_ = {g for g, n in sizes.items() if n > 0}
    left = min(budget, sum(sizes.values()))
    while left > 0 and open_:
        share = left // len(open_)
        if share == 0:
            for g in sorted(open_, key=lambda g: (-(sizes[g] - quotas[g]), g))[:left]:
                quotas[g] += 1
            break
        for g in sorted(open_):
            add = min(share, sizes[g] - quotas[g])
            quotas[g] += add
            left -= add
            if quotas[g] >= sizes[g]:
                open_.discard(g)
    return quotas


# -------------------------------------------------------------------------------------- plan
@dataclass
class Plan:
    status: np.ndarray            # int8 per record (STATUS codes)
    neighbour: np.ndarray         # int64: the kept record a too_close one is near (-1 otherwise)
    similarity: np.ndarray        # float32: cosine similarity to that neighbour
    order: list[int]              # selected records, in the order they were chosen
    quotas: dict[str, int] | None  # final quotas (after any refill of a too_close shortfall)
    target: int

    def counts(self) -> dict[str, int]:
        c = Counter(STATUS[int(s)] for s in self.status)
        return dict(sorted(c.items()))


def plan(vectors: np.ndarray | None, scores: np.ndarray, cfg: SelectConfig, *, groups: Sequence[str] | None = None,
         contaminated: np.ndarray | None = None) -> Plan:
    """Decide every record's status. `scores` may hold NaN (ranked last); ties go in a seeded order."""
    n = len(scores)
    status = np.full(n, BELOW_BUDGET, dtype=np.int8)
    neighbour = np.full(n, -1, dtype=np.int64)
    sim = np.zeros(n, dtype=np.float32)
    if contaminated is not None:
        status[contaminated] = CONTAMINATED
    cand = np.flatnonzero(status != CONTAMINATED)
    target = cfg.target(len(cand))
    # best first, NaN last; equal scores (judge scores are small integers; no scores at all is one
    # big tie) in a seeded random order, so a tie does not favour the first input file
    key = np.where(np.isnan(scores), -np.inf, scores)
    tiebreak = np.random.default_rng(cfg.seed).permutation(n)
    ranked = cand[np.lexsort((tiebreak[cand], -key[cand]))]
    quotas = None
    if cfg.balance and groups is not None:
        sizes = Counter(groups[i] for i in cand)
        quotas = fair_quotas(dict(sizes), target)
    if cfg.method == "kcenter":
        order = _kcenter(vectors, ranked, target, status, neighbour, sim, groups, quotas)
    else:
        with one_blas_thread():
            order = _greedy(vectors if cfg.method == "deita" else None, ranked, target, cfg.threshold, status,
                            neighbour, sim, groups, quotas)
    return Plan(status, neighbour, sim, order, quotas, target)


def one_blas_thread():
    """A context in which BLAS runs on one thread. The greedy walks multiply small blocks (256 x a
    few thousand) thousands of times, where BLAS threads cost more in hand-offs than they gain —
    measured 4.7x slower with 2 threads on a busy 2-core machine (bench/select_bench.py)."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - it is a dependency; without it we only run slower
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _greedy(vectors, ranked, target, threshold, status, neighbour, sim, groups, quotas) -> list[int]:
    """Best-first scan with the distance test (vectors given) and quotas; rounds reopen full groups."""
    dim = vectors.shape[1] if vectors is not None else 0
    kept_vecs = np.zeros((max(target, 1), dim), dtype=np.float32) if vectors is not None else None
    order: list[int] = []
    used: Counter[str] = Counter()
    queue = ranked  # `quotas` is updated in place: the plan reports the final quotas
    while len(order) < target and len(queue):
        deferred: list[int] = []
        for start in range(0, len(queue), _BLOCK):
            if len(order) >= target:
                break
            block = queue[start: start + _BLOCK]
            best_sim = best_idx = None
            if kept_vecs is not None and order:
                s = vectors[block] @ kept_vecs[: len(order)].T
                best_idx = s.argmax(axis=1)
                best_sim = s[np.arange(len(block)), best_idx]
            inner = vectors[block] @ vectors[block].T if kept_vecs is not None else None
            taken_here: list[int] = []  # positions in block kept during this block
            for p, i in enumerate(block):
                if len(order) >= target:
                    break
                if quotas is not None and used[groups[i]] >= quotas[groups[i]]:
                    status[i] = QUOTA_FULL
                    deferred.append(i)
                    continue
                if kept_vecs is not None:
                    s_best, n_best = (float(best_sim[p]), order[int(best_idx[p])]) if best_sim is not None else (-2.0, -1)
                    if s_best <= threshold and taken_here:  # already too close to an earlier block: no need
                        row = inner[p, taken_here]
                        j = int(row.argmax())
                        if float(row[j]) > s_best:
                            s_best, n_best = float(row[j]), int(block[taken_here[j]])
                    if s_best > threshold:
                        status[i] = TOO_CLOSE
                        neighbour[i], sim[i] = n_best, s_best
                        continue
                    kept_vecs[len(order)] = vectors[i]
                    taken_here.append(p)
                status[i] = SELECTED
                neighbour[i], sim[i] = -1, 0.0
                order.append(i)
                if quotas is not None:
                    used[groups[i]] += 1
        if quotas is None or len(order) >= target or not deferred:
            break
        # too_close verdicts left the budget short: give the shortfall to the groups that filled up
        full = Counter(groups[i] for i in deferred)
        extra = fair_quotas(dict(full), target - len(order))
        if not any(extra.values()):
            break
        for g, e in extra.items():
            quotas[g] += e
        queue = np.asarray(deferred, dtype=np.int64)
    return order


def _kcenter(vectors, ranked, target, status, neighbour, sim, groups, quotas) -> list[int]:
    """Farthest-first traversal from the best-scored record; unchosen records name their nearest chosen one."""
    order: list[int] = []
    if target == 0 or not len(ranked):
        return order
    cand = np.asarray(ranked, dtype=np.int64)
    x = vectors[cand]
    nearest_sim = np.full(len(cand), -np.inf, dtype=np.float32)
    nearest = np.full(len(cand), -1, dtype=np.int64)
    alive = np.ones(len(cand), dtype=bool)
    used: Counter[str] = Counter()
    pos = 0  # the first pick: the best score
    while len(order) < target:
        i = int(cand[pos])
        order.append(i)
        status[i] = SELECTED
        alive[pos] = False
        if quotas is not None:
            used[groups[i]] += 1
            if used[groups[i]] >= quotas[groups[i]]:
                for q in np.flatnonzero(alive):
                    if groups[int(cand[q])] == groups[i]:
                        alive[q] = False
                        status[int(cand[q])] = QUOTA_FULL
        s = x @ vectors[i]
        closer = s > nearest_sim
        nearest_sim[closer] = s[closer]
        nearest[closer] = i
        if not alive.any():
            break
        masked = np.where(alive, nearest_sim, np.inf)
        pos = int(masked.argmin())  # the least similar = farthest from everything chosen
    for q in range(len(cand)):
        i = int(cand[q])
        if status[i] == BELOW_BUDGET and nearest[q] >= 0:
            status[i] = TOO_CLOSE
            neighbour[i], sim[i] = nearest[q], nearest_sim[q]
    return order
