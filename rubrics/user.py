"""User scoring functions named as ``module:function`` (imported with importlib, never eval'd).

The function is called as ``fn(conversation, candidate, **params)`` and may return a `Score`, a
number, a bool, or ``(number, explanation)``. A function with ``fn.batched = True`` is called
once per group as ``fn(conversation, [candidates], **params)`` and returns a list of those.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from curator.plugins import import_callable as import_function
from curator.record import Conversation, Message
from rubrics.base import Rubric, Score


def to_score(result: Any, where: str) -> Score:
    if isinstance(result, Score):
        return result
    if isinstance(result, bool):
        return Score(1.0 if result else 0.0, result, "")
    if isinstance(result, (int, float)):
        return Score(float(result), True, "")
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], (int, float)):
        return Score(float(result[0]), True, str(result[1]))
    raise TypeError(f"{where} returned {type(result).__name__}; return a Score, a number, a bool or (number, text)")


class FunctionRubric(Rubric):
    range = None

    def __init__(self, ref: str, params: dict[str, Any] | None = None, name: str | None = None):
        self.ref = ref
        self.fn = import_function(ref)
        self.params = dict(params or {})
        self.name = name or ref.rpartition(":")[2]
        self.batched = bool(getattr(self.fn, "batched", False))

    def score(self, conv: Conversation, candidate: Message) -> Score:
        return self.score_group(conv, [candidate])[0]

    def score_group(self, conv: Conversation, candidates: Sequence[Message]) -> list[Score]:
        if self.batched:
            res = list(self.fn(conv, list(candidates), **self.params))
            if len(res) != len(candidates):
                raise ValueError(f"{self.ref} returned {len(res)} scores for {len(candidates)} candidates")
            return [to_score(r, self.ref) for r in res]
        return [to_score(self.fn(conv, c, **self.params), self.ref) for c in candidates]

    def score_batch(self, items: Sequence[tuple[Conversation, Message]]) -> list[Score]:
        return [self.score_group(c, [m])[0] for c, m in items]
