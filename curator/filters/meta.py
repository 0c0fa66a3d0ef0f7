"""Filters over metadata and user code: `score` (a number in meta.scores) and `user` (module:function).

A user filter is imported with importlib — never eval'ed — and called as ``fn(conv, **params)``.
It returns True/False, ``(False, "reason")`` or ``(False, "code", "sentence")``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from curator.errors import UsageError
from curator.plugins import import_callable
from curator.filters._util import meta_lookup
from curator.filters.base import Drop, Filter, Verdict, register
from curator.record import Conversation


@register
@dataclass
class Score(Filter):
    name = "score"
    cost = 0
    codes = ("low_score", "high_score", "no_score")

    key: str = field(default="", metadata={"help": "name in meta.scores (or a dotted meta path, e.g. meta.judge.score)"})
    min: float | None = field(default=None, metadata={"help": "keep when score >= min"})
    max: float | None = field(default=None, metadata={"help": "keep when score <= max"})
    missing: str = field(default="drop", metadata={"help": "keep or drop records without this score"})

    def setup(self) -> None:
        if not self.key:
            raise UsageError("key is required, e.g. {key: helpfulness, min: 3}")
        if self.min is None and self.max is None:
            raise UsageError("set min and/or max")
        if self.missing not in ("keep", "drop"):
            raise UsageError(f"missing {self.missing!r}: choose keep or drop")
        self._path = self.key if self.key.startswith("meta.") else f"meta.scores.{self.key}"

    def filter(self, conv: Conversation) -> Verdict:
        v = meta_lookup(conv, self._path)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            if self.missing == "keep":
                return True
            return Drop("no_score", f"no numeric score at {self._path} (found {v!r}) and missing=drop")
        if self.min is not None and v < self.min:
            return Drop("low_score", f"{self._path} = {v}, below min={self.min}")
        if self.max is not None and v > self.max:
            return Drop("high_score", f"{self._path} = {v}, above max={self.max}")
        return True


def load_function(spec: str) -> Callable[..., Any]:
    """The user filter function; a bad spec is a usage error (exit 2), not a crash."""
    try:
        return import_callable(spec)
    except ValueError as e:
        raise UsageError(f"function {e}") from None


@register
@dataclass
class User(Filter):
    name = "user"
    cost = 6
    codes = ("user_filter",)

    function: str = field(default="", metadata={"help": "module:function, called as fn(conv, **params)"})
    params: dict = field(default_factory=dict, metadata={"help": "keyword arguments for the function"})
    code: str = field(default="user_filter", metadata={"help": "reason code for drops without their own code"})

    def setup(self) -> None:
        self._fn = load_function(self.function)

    def filter(self, conv: Conversation) -> Verdict:
        out = self._fn(conv, **self.params)
        if out is True or out is None:
            return True
        if out is False:
            return Drop(self.code, f"{self.function} returned False")
        if isinstance(out, Drop):
            return out
        if isinstance(out, tuple) and out and out[0] is True:
            return True
        if isinstance(out, tuple) and len(out) == 2:
            return Drop(self.code, f"{self.function}: {out[1]}")
        if isinstance(out, tuple) and len(out) == 3:
            return Drop(str(out[1]), f"{self.function}: {out[2]}")
        raise TypeError(f"user filter {self.function} returned {out!r}; expected True/False, (False, reason) "
                        f"or (False, code, sentence)")
