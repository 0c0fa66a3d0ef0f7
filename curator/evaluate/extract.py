"""Extraction metrics: field-level precision/recall/F1 between the JSON the model wrote and the
reference JSON, exact-record match, and how many answers were not valid JSON.

Both sides are flattened to (path, value) pairs — ``{"a": {"b": 1}, "c": ["x", "y"]}`` ->
``("a.b", "1"), ("c[]", "x"), ("c[]", "y")``: list items share a path and are compared as a
multiset (order-free), since extracted entities rarely come in a fixed order. String values are
compared after NFKC, case-folding and whitespace collapsing; numbers by value ("1.0" = 1).
An answer that is not JSON contributes no fields (every reference field is missed) and is
counted in `invalid_json`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any, Sequence

import numpy as np
import orjson

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_WS = re.compile(r"\s+")


def parse_json(text: str) -> Any:
    """The JSON object/array in `text` (bare, fenced, or the outermost {...} inside prose); raises ValueError."""
    s = text.strip()
    for cand in [s, *(m.group(1).strip() for m in _FENCE.finditer(s))]:
        try:
            v = orjson.loads(cand)
        except orjson.JSONDecodeError:
            continue
        if isinstance(v, (dict, list)):
            return v
    i, j = s.find("{"), s.rfind("}")
    if 0 <= i < j:
        try:
            v = orjson.loads(s[i:j + 1])
            if isinstance(v, dict):
                return v
        except orjson.JSONDecodeError:
            pass
    raise ValueError("not JSON")


def _value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return orjson.dumps(v).decode()
    if isinstance(v, (int, float)):
        return repr(float(v))
    return _WS.sub(" ", unicodedata.normalize("NFKC", str(v)).casefold()).strip()


def _pairs(obj: Any, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(obj, dict):
        if not obj and path:
            out.append((path, "{}"))
        for k, v in obj.items():
            _pairs(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(obj, list):
        for v in obj:
            _pairs(v, f"{path}[]", out)
    else:
        out.append((path, _value(obj)))


def flatten(obj: Any) -> Counter[tuple[str, str]]:
    """The multiset of (path, normalised value) pairs of a JSON value."""
    out: list[tuple[str, str]] = []
    _pairs(obj, "", out)
    return Counter(out)


def looks_like_json(text: str) -> bool:
    s = text.strip()
    if not (s.startswith(("{", "[", "```"))):
        return False
    try:
        parse_json(s)
        return True
    except ValueError:
        return False


class Extraction:
    name = "extraction"
    primary = "field_f1"

    def __init__(self, answers: Sequence[str], references: Sequence[str]):
        n = len(answers)
        self.stats = np.zeros((n, 6))  # n, tp, pred fields, ref fields, exact, invalid
        self.field_counts: Counter[str] = Counter()
        self.field_tp: Counter[str] = Counter()
        self.field_pred: Counter[str] = Counter()
        self.missing: list[list[str]] = []
        self.wrong: list[list[str]] = []
        for i, (a, r) in enumerate(zip(answers, references)):
            ref = flatten(parse_json(r))
            try:
                pred = flatten(parse_json(a))
                invalid = 0
            except ValueError:
                pred, invalid = Counter(), 1
            tp = pred & ref
            self.stats[i] = (1, sum(tp.values()), sum(pred.values()), sum(ref.values()), float(pred == ref), invalid)
            for (p, _), c in ref.items():
                self.field_counts[p] += c
            for (p, _), c in tp.items():
                self.field_tp[p] += c
            for (p, _), c in pred.items():
                self.field_pred[p] += c
            self.missing.append(sorted({p for (p, _) in ref - pred}))
            self.wrong.append(sorted({p for (p, _) in pred - ref}))
        self.ok = self.stats[:, 4] == 1
        with np.errstate(divide="ignore", invalid="ignore"):
            den = self.stats[:, 2] + self.stats[:, 3]
            self.score = np.where(den > 0, 2 * self.stats[:, 1] / den, 1.0)

    def sums(self, w: np.ndarray) -> np.ndarray:
        return w @ self.stats

    def summarize(self, s: np.ndarray) -> dict[str, float]:
        n, tp, pred, ref, exact, invalid = s
        return {"field_precision": float(tp / pred) if pred else 0.0, "field_recall": float(tp / ref) if ref else 0.0,
                "field_f1": float(2 * tp / (pred + ref)) if pred + ref else 0.0,
                "exact_match": float(exact / n) if n else 0.0, "invalid_json_rate": float(invalid / n) if n else 0.0}

    def extras(self) -> dict[str, Any]:
        per = {}
        for p in sorted(self.field_counts, key=lambda k: (-self.field_counts[k], k)):
            tp, ref, pred = self.field_tp[p], self.field_counts[p], self.field_pred[p]
            per[p] = {"precision": tp / pred if pred else 0.0, "recall": tp / ref if ref else 0.0,
                      "f1": 2 * tp / (pred + ref) if pred + ref else 0.0, "support": ref}
        return {"invalid_json": int(self.stats[:, 5].sum()), "per_field": per}

    def detail(self, i: int) -> dict[str, Any]:
        if self.stats[i, 5]:
            return {"why": "the answer is not valid JSON"}
        wrong_value = [p for p in self.missing[i] if p in self.wrong[i]]
        missing = [p for p in self.missing[i] if p not in wrong_value]
        extra = [p for p in self.wrong[i] if p not in wrong_value]
        why = "; ".join(f"{label}: {', '.join(ps)}" for label, ps in
                        (("wrong value", wrong_value), ("missing", missing), ("not in the reference", extra)) if ps)
        return {"wrong_value": wrong_value, "missing": missing, "unexpected": extra, "why": why or "fields differ"}
