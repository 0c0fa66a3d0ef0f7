"""Reasoning (chain-of-thought) filters: presence, length, non-empty final answer, and the answer
after the reasoning matching a reference (the usual rejection-sampling check).

Reasoning lives in `Message.reasoning` (readers already split ``<think>`` blocks and take
``reasoning_content``), so these filters never parse tags. They look at the final assistant turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curator import answer_match
from curator.errors import UsageError
from curator.filters._util import check_bounds, clip, count_tokens, lookup, meta_lookup
from curator.filters.base import Drop, Filter, Verdict, register
from curator.record import Conversation


@register
@dataclass
class Reasoning(Filter):
    name = "reasoning"
    cost = 0
    codes = ("reasoning_missing", "reasoning_present", "reasoning_too_short", "reasoning_too_long",
             "empty_final_answer")

    require: str = field(default="any", metadata={"help": "present, absent, or any (mixed sets)"})
    min_chars: int | None = field(default=None, metadata={"help": "reasoning at least this many characters"})
    max_chars: int | None = field(default=None, metadata={"help": "reasoning at most this many characters"})
    tokenizer: str | None = field(default=None, metadata={"help": "local tokenizer folder for the token bounds"})
    min_tokens: int | None = field(default=None, metadata={"help": "reasoning at least this many tokens"})
    max_tokens: int | None = field(default=None, metadata={"help": "reasoning at most this many tokens"})
    answer_required: bool = field(default=True, metadata={"help": "drop reasoning with an empty final answer"})

    def setup(self) -> None:
        if self.require not in ("present", "absent", "any"):
            raise UsageError(f"require {self.require!r}: choose present, absent or any")
        check_bounds(self.min_chars, self.max_chars, "chars")
        check_bounds(self.min_tokens, self.max_tokens, "tokens")
        if (self.min_tokens is not None or self.max_tokens is not None) and not self.tokenizer:
            raise UsageError("token bounds need tokenizer: a local tokenizer folder")

    def filter(self, conv: Conversation) -> Verdict:
        i = conv.last_index("assistant")
        if i is None:
            return True  # the turns filter owns "no assistant turn"
        m = conv.messages[i]
        r = (m.reasoning or "").strip()
        if self.require == "present" and not r:
            return Drop("reasoning_missing", f"assistant message {i} has no reasoning and require=present")
        if self.require == "absent" and r:
            return Drop("reasoning_present", f"assistant message {i} has {len(r)} characters of reasoning "
                                             f"and require=absent")
        if not r:
            return True
        if self.answer_required and not m.content.strip():
            return Drop("empty_final_answer", f"assistant message {i} has reasoning ({len(r)} characters) but an "
                                              f"empty final answer — likely cut off at the token limit")
        n = len(r)
        if self.min_chars is not None and n < self.min_chars:
            return Drop("reasoning_too_short", f"reasoning has {n} characters, below min_chars={self.min_chars}")
        if self.max_chars is not None and n > self.max_chars:
            return Drop("reasoning_too_long", f"reasoning has {n} characters, above max_chars={self.max_chars}")
        if self.tokenizer and (self.min_tokens is not None or self.max_tokens is not None):
            t = count_tokens(self.tokenizer, r)
            if self.min_tokens is not None and t < self.min_tokens:
                return Drop("reasoning_too_short", f"reasoning has {t} tokens, below min_tokens={self.min_tokens}")
            if self.max_tokens is not None and t > self.max_tokens:
                return Drop("reasoning_too_long", f"reasoning has {t} tokens, above max_tokens={self.max_tokens}")
        return True

    def screen(self, view):
        # require=any: a record without any reasoning has an empty `r`, and `filter` returns True
        if self.require != "any":
            return None
        return view.sure_except(view.owner[[j for j, r in enumerate(view.reasonings) if r]])


@register
@dataclass
class AnswerMatch(Filter):
    name = "answer_match"
    cost = 2
    codes = ("answer_mismatch", "no_reference")

    reference: str = field(default="meta.reference",
                           metadata={"help": "dotted meta field holding the reference (e.g. meta.extra.answer)"})
    mode: str = field(default="auto", metadata={"help": "auto, number (last number equal) or exact"})
    missing: str = field(default="keep", metadata={"help": "keep or drop records without a reference"})

    def setup(self) -> None:
        if self.mode not in ("auto", "number", "exact"):
            raise UsageError(f"mode {self.mode!r}: choose auto, number or exact")
        if self.missing not in ("keep", "drop"):
            raise UsageError(f"missing {self.missing!r}: choose keep or drop")
        if not self.reference.startswith("meta."):
            raise UsageError(f"reference {self.reference!r} should be a meta field such as meta.reference")

    def filter(self, conv: Conversation) -> Verdict:
        ref = meta_lookup(conv, self.reference)
        if isinstance(ref, dict):  # `train generate` keeps the eval answer as a message: compare its text
            ref = ref.get("content")
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            if self.missing == "drop":
                return Drop("no_reference", f"no reference answer at {self.reference} and missing=drop")
            return True
        m = conv.last("assistant")
        answer = m.content if m is not None else ""
        res = answer_match.match(answer, str(ref), self.mode)
        if res.matched:
            return True
        return Drop("answer_mismatch", f"final answer gives {res.got!r} ({res.mode}) but the reference at "
                                       f"{self.reference} is {res.expected!r}; answer starts {clip(answer, 40)}")

    def screen(self, view):
        # missing=keep: no (or a blank) reference returns True before any matching, as in `filter`
        import numpy as np

        if self.missing != "keep":
            return None
        return np.fromiter((_no_reference(lookup(m, self.reference)) for m in view.metas), dtype=bool,
                           count=view.n)


def _no_reference(ref) -> bool:
    if isinstance(ref, dict):
        ref = ref.get("content")
    return ref is None or (isinstance(ref, str) and not ref.strip())
