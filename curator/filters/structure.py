"""Structure: turn-count bounds, empty assistant turns, and answers that must be JSON (or match a schema)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.errors import UsageError
from curator.filters._util import check_bounds, clip
from curator.filters.base import Drop, Filter, Verdict, register
from curator.record import Conversation


@register
@dataclass
class Turns(Filter):
    name = "turns"
    cost = 0
    codes = ("too_few_turns", "too_many_turns")

    min_turns: int | None = field(default=1, metadata={"help": "at least this many assistant turns"})
    max_turns: int | None = field(default=None, metadata={"help": "at most this many assistant turns"})

    def setup(self) -> None:
        check_bounds(self.min_turns, self.max_turns, "turns")

    def filter(self, conv: Conversation) -> Verdict:
        n = sum(1 for m in conv.messages if m.role == "assistant")
        if self.min_turns is not None and n < self.min_turns:
            return Drop("too_few_turns", f"{n} assistant turns, below min_turns={self.min_turns}")
        if self.max_turns is not None and n > self.max_turns:
            return Drop("too_many_turns", f"{n} assistant turns, above max_turns={self.max_turns}")
        return True

    def screen(self, view):
        # the same count, for every record at once: exactly the plain verdict
        import numpy as np

        n = np.bincount(view.owner[view.role_index(("assistant",))], minlength=view.n)
        sure = np.ones(view.n, dtype=bool)
        if self.min_turns is not None:
            sure &= n >= self.min_turns
        if self.max_turns is not None:
            sure &= n <= self.max_turns
        return sure


@register
@dataclass
class EmptyAnswer(Filter):
    name = "empty_answer"
    cost = 0
    codes = ("empty_answer",)

    allow_tool_calls: bool = field(default=True, metadata={"help": "an assistant turn that only calls tools is fine"})

    def filter(self, conv: Conversation) -> Verdict:
        for i, m in enumerate(conv.messages):
            if m.role == "assistant" and not m.content.strip():
                if self.allow_tool_calls and m.tool_calls:
                    continue
                what = "has only reasoning" if m.reasoning else "is empty"
                return Drop("empty_answer", f"assistant message {i} {what} — nothing to train the answer on")
        return True

    def screen(self, view):
        # a record whose assistant contents all hold a non-space character passes (the tool-call
        # exception only keeps more, so leaving it to the plain filter is safe)
        texts, owner = view.texts(("assistant",))
        return view.sure_except(owner[[i for i, t in enumerate(texts) if not t.strip()]])


def _strip_fence(text: str) -> str:
    t = text.strip()
    if t.startswith("```"):
        first_nl = t.find("\n")
        if first_nl != -1 and t.endswith("```"):
            return t[first_nl + 1:-3].strip()
    return t


@register
@dataclass
class JsonAnswer(Filter):
    name = "json_answer"
    cost = 3
    codes = ("not_json", "schema_mismatch")

    schema: Any = field(default=None, metadata={"help": "JSON Schema (inline mapping, or path to .json/.yaml)"})
    allow_fence: bool = field(default=True, metadata={"help": "accept an answer wrapped in ```json ... ```"})
    turns: str = field(default="last", metadata={"help": "last (final answer) or all assistant turns"})

    def setup(self) -> None:
        if self.turns not in ("last", "all"):
            raise UsageError(f"turns {self.turns!r}: choose last or all")
        self._validator = None
        if self.schema is None:
            return
        schema = self.schema
        if isinstance(schema, str):
            p = Path(schema)
            if not p.is_file():
                raise UsageError(f"schema {schema!r}: no such file")
            import yaml

            schema = yaml.safe_load(p.read_text("utf-8"))  # YAML is a superset of JSON
        if not isinstance(schema, dict):
            raise UsageError(f"schema should be a mapping or a file path, got {type(schema).__name__}")
        import jsonschema

        try:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
        except jsonschema.SchemaError as e:
            raise UsageError(f"schema is not a valid JSON Schema: {e.message}") from None
        self._validator = cls(schema)

    def filter(self, conv: Conversation) -> Verdict:
        idx = [i for i, m in enumerate(conv.messages) if m.role == "assistant" and not m.tool_calls]
        if self.turns == "last":
            idx = idx[-1:]
        for i in idx:
            text = conv.messages[i].content
            if self.allow_fence:
                text = _strip_fence(text)
            try:
                value = json.loads(text)
            except ValueError as e:
                return Drop("not_json", f"assistant message {i} is not JSON ({e.args[0] if e.args else e}): "
                                        f"{clip(text, 40)}")
            if self._validator is not None:
                err = next(iter(self._validator.iter_errors(value)), None)
                if err is not None:
                    where = "/".join(str(p) for p in err.absolute_path) or "(root)"
                    return Drop("schema_mismatch", f"assistant message {i} JSON does not match the schema at "
                                                   f"{where}: {err.message}")
        return True
