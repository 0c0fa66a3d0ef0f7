"""Which task a record is, and the math task (final-answer match through `answer_match`).

Detection (``--task auto``), per record unless the row declares ``task``/``meta.task``:
- the reference is a JSON object or array -> extraction;
- the reference is a number (or a GSM8K ``#### 72`` / ``\\boxed{}`` answer) -> math;
- the reference is short (<= 32 characters), one line, with no sentence punctuation inside
  (a trailing "." or "。" is fine) -> a label candidate;
- anything else -> generation.
Label candidates become classification when they look like a label set — at most 100 distinct
labels and each used twice on average (two labels always count) — else they are short-answer
generation. A small or unusual set is best declared: ``--task`` or a ``task`` field per row.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Sequence

import numpy as np

from curator.answer_match import match
from curator.evaluate.extract import looks_like_json
from curator.evaluate.labels import normalize_label

TASKS = ("classification", "extraction", "generation", "math")
ALIASES = {"cls": "classification", "classify": "classification", "label": "classification",
           "ie": "extraction", "ner": "extraction", "json": "extraction", "gen": "generation",
           "qa": "generation", "gsm8k": "math", "number": "math"}
_NUMBER = re.compile(r"^\s*\$?[-−]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?(/\d+)?\s*%?\s*$")
_SENTENCE = re.compile(r"[,，;；。!！?？]")
_BOXED_OR_HASH = re.compile(r"####|\\boxed\s*\{")


def declared(task: str | None) -> str | None:
    if not task:
        return None
    t = task.strip().lower()
    t = ALIASES.get(t, t)
    return t if t in TASKS else None


def guess(reference: str) -> str:
    """'extraction', 'math', 'label' or 'generation' for one reference (see module doc)."""
    s = reference.strip()
    if s[:1] in "{[`" and looks_like_json(s):
        return "extraction"
    if _BOXED_OR_HASH.search(s) or (_NUMBER.match(s) and any(c.isdigit() for c in s)):
        return "math"
    if len(s) <= 32 and "\n" not in s and not _SENTENCE.search(s.rstrip(".。!！?？")):
        return "label"
    return "generation"


def label_set_is_classification(labels: Sequence[str]) -> bool:
    distinct = len({normalize_label(x) for x in labels})
    return distinct <= 100 and distinct <= max(2, len(labels) / 2)


class MathAnswers:
    name = "math"
    primary = "accuracy"

    def __init__(self, answers: Sequence[str], references: Sequence[str]):
        self.matches = [match(a, r) for a, r in zip(answers, references)]
        self.ok = np.fromiter((m.matched for m in self.matches), dtype=bool, count=len(self.matches))
        self.score = self.ok.astype(np.float64)
        self.stats = np.column_stack([np.ones(len(self.ok)), self.score,
                                      [float(m.got is None) for m in self.matches]]) if self.matches else np.zeros((0, 3))

    def sums(self, w: np.ndarray) -> np.ndarray:
        return w @ self.stats

    def summarize(self, s: np.ndarray) -> dict[str, float]:
        n, correct, none = s
        return {"accuracy": float(correct / n) if n else 0.0, "no_final_answer_rate": float(none / n) if n else 0.0}

    def extras(self) -> dict[str, Any]:
        return {"no_final_answer": int(self.stats[:, 2].sum()),
                "modes": dict(sorted(Counter(m.mode for m in self.matches).items()))}

    def detail(self, i: int) -> dict[str, Any]:
        m = self.matches[i]
        why = "no final answer found" if m.got is None else f"final answer {m.got!r}, expected {m.expected!r}"
        return {"got": m.got, "expected": m.expected, "mode": m.mode, "why": why}
