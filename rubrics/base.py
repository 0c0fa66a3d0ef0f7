"""The one scoring interface every reward function implements.

``score(conversation, candidate) -> Score``: `conversation` supplies the prompt (and, in
``meta["reference"]``, a reference answer when there is one); `candidate` is the assistant
`Message` being judged, so a rubric sees its reasoning separately from its answer.

Scorers that batch (reward models) or that must see all candidates of one prompt together
(pairwise judges, per-prompt z-normalisation) override `score_group`; I/O-bound scorers (LLM
judges) override `ascore_group` so best-of-K can overlap them with generation. Everything else
gets both for free from `score`.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from curator.record import Conversation, Message

OK, UNPARSEABLE, ERROR, GATED = "ok", "unparseable", "error", "gated"


@dataclass(frozen=True, slots=True)
class Score:
    """One verdict. `value` is None only when there is no verdict (`status` says why): an
    unparseable judge answer is recorded as such, never silently turned into 0."""

    value: float | None
    passed: bool
    explanation: str = ""
    status: str = OK
    #: A composite's per-component scores, by component name.
    parts: dict[str, "Score"] | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK and self.value is not None and not math.isnan(self.value)

    def to_dict(self) -> dict:
        d = {"value": self.value, "passed": self.passed, "explanation": self.explanation}
        if self.status != OK:
            d["status"] = self.status
        return d

    @classmethod
    def failed(cls, status: str, explanation: str) -> "Score":
        return cls(None, False, explanation, status)


def reference_of(conv: Conversation, field: str = "reference") -> str | None:
    """The reference answer for a prompt: ``meta[field]``, as a string, or None."""
    ref = conv.meta.get(field)
    if isinstance(ref, dict) and "content" in ref:  # a message dict (train generate): its text, not {'role': ...}
        ref = ref["content"]
    if ref is None:
        return None
    return ref if isinstance(ref, str) else str(ref)


class Rubric:
    """Base class: subclasses implement `score` and may override the group/async forms."""

    name: str = "rubric"
    #: The value range (lo, hi) when known, so a composite can put terms on one 0..1 scale.
    range: tuple[float, float] | None = (0.0, 1.0)
    #: True when scoring holds the CPU for long (reward models): run it off the event loop.
    blocking: bool = False

    def score(self, conv: Conversation, candidate: Message) -> Score:
        return self.score_group(conv, [candidate])[0]

    def score_batch(self, items: Sequence[tuple[Conversation, Message]]) -> list[Score]:
        """Score (conversation, candidate) pairs from possibly different prompts."""
        return [self.score(c, m) for c, m in items]

    def score_group(self, conv: Conversation, candidates: Sequence[Message]) -> list[Score]:
        """Score all candidates of one prompt (what best-of-K calls)."""
        return self.score_batch([(conv, m) for m in candidates])

    async def ascore_group(self, conv: Conversation, candidates: Sequence[Message]) -> list[Score]:
        if self.blocking:
            return await asyncio.to_thread(self.score_group, conv, list(candidates))
        return self.score_group(conv, candidates)

    def close(self) -> None:
        """Release clients or models (no-op by default)."""

    def components(self) -> Iterable["Rubric"]:
        """The rubrics inside this one (composites list their terms; used for reporting)."""
        return (self,)
