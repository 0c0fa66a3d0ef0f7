"""Run a list of filters over records: cheap filters first, first drop wins.

`FilterChain.filter_batch(convs) -> (kept, dropped)` is pure: it never mutates its input
(filters that edit — PII masking, refusal tagging — get a copy) and keeps no state between calls,
so Ray Data can map it over blocks later. The command streams batches through it and turns each
`Rejected` into a reject line; per-filter counts are summed by the caller from `dropped`.

Batches go through `check_many`: each filter's batch screen (`curator.filters.screen`) first
proves which records it keeps, and a record runs only the filters not proven, in order — the same
verdicts as `check` record by record, in a fraction of the time (numpy and one scan per batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from curator.errors import UsageError
from curator.filters.base import Drop, Filter
from curator.record import Conversation


@dataclass(frozen=True, slots=True)
class Rejected:
    conv: Conversation
    filter: str       # the filter's label in the chain ("length", "length#2" for a second one)
    code: str
    message: str      # a sentence naming the filter, the value and the threshold


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    filter: Filter


class FilterChain:
    def __init__(self, filters: Iterable[Filter | tuple[str, Filter]]):
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for f in filters:
            label, flt = f if isinstance(f, tuple) else (f.name, f)
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label}#{seen[label]}"
            steps.append(Step(label, flt))
        # Cheap first (stable, so the chain file's order decides among equals): most drops happen before the
        # language model or a user function ever runs.
        self.steps: list[Step] = sorted(steps, key=lambda s: s.filter.cost)
        self._edits = any(s.filter.edits for s in self.steps)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.steps]

    def describe(self) -> list[dict]:
        """Filters in run order with their parameters (for the manifest)."""
        return [{"filter": s.label, "params": s.filter.param_values()} for s in self.steps]

    def check(self, conv: Conversation) -> tuple[Conversation, Rejected | None]:
        """Run every filter on one record: (record to keep — a copy when a filter edited it, or the drop)."""
        return self._run(conv, self.steps)

    def check_many(self, convs: Sequence[Conversation]) -> list[tuple[Conversation, Rejected | None]]:
        """`check` of each record, the same results, with the filters' batch screens
        (`curator.filters.screen`): each record runs only the filters not proven to keep it, in
        the chain's order, so its first drop is the one `check` finds. Screens see the records
        as they came in, so only filters before the first one that edits are screened."""
        if not convs:
            return []
        from curator.filters.screen import BatchView

        view = BatchView(convs)
        sures = [s.filter.screen(view) for s in self.steps[:self._screened()]]
        all_sure = proven_by(sures, len(convs)) if len(sures) == len(self.steps) else None
        out: list[tuple[Conversation, Rejected | None]] = []
        for i, conv in enumerate(convs):
            if all_sure is not None and all_sure[i]:
                out.append((conv, None))
            else:
                out.append(self.check_rest(conv, sures, i))
        return out

    def check_rest(self, conv: Conversation, sures: Sequence[Any], i: int) -> tuple[Conversation, Rejected | None]:
        """`check` of record `i` of a screened batch: the filters whose screen (`sures`, one per
        step from the first) did not prove it kept, then every step after the screened ones."""
        steps = [st for st, s in zip(self.steps, sures) if s is None or not s[i]] + self.steps[len(sures):]
        return self._run(conv, steps)

    def proofs(self, view: Any) -> list[Any] | None:
        """Every filter's screen of the view's records (a bool array each, in run order), or None
        when the chain can never prove a record kept unchanged: a filter that edits, or one
        without a screen for its parameters (then every record needs `check`)."""
        if self._screened() < len(self.steps):
            return None
        sures = [s.filter.screen(view) for s in self.steps]
        return None if any(s is None for s in sures) else sures

    def _screened(self) -> int:
        """How many steps, from the first, are screened: those before the first that edits
        (screens see the records as they came in)."""
        return next((k for k, s in enumerate(self.steps) if s.filter.edits), len(self.steps))

    def _run(self, conv: Conversation, steps: Sequence[Step]) -> tuple[Conversation, Rejected | None]:
        if self._edits:
            conv = conv.copy()
        for step in steps:
            try:
                v = step.filter.filter(conv)
            except UsageError:
                raise
            except Exception as e:  # noqa: BLE001
                if step.filter.name == "user":
                    # A bug in the user's function is a usage problem: stop with its message.
                    raise UsageError(f"filter {step.label!r} ({getattr(step.filter, 'function', '')}) raised "
                                     f"{type(e).__name__}: {e}") from None
                raise
            if v is True:
                continue
            if isinstance(v, Drop):
                return conv, Rejected(conv, step.label, v.code, f"filter {step.label}: {v.message}")
            return conv, Rejected(conv, step.label, step.filter.name, f"filter {step.label}: dropped")
        return conv, None

    def filter_batch(self, convs: Sequence[Conversation]) -> tuple[list[Conversation], list[Rejected]]:
        kept: list[Conversation] = []
        dropped: list[Rejected] = []
        for conv, (out, rej) in zip(convs, self.check_many(convs)):
            if rej is None:
                kept.append(out)
            else:
                # Reject the record as it came in, not a half-masked copy.
                dropped.append(Rejected(conv, rej.filter, rej.code, rej.message))
        return kept, dropped


def proven_by(sures: Sequence[Any], n: int) -> Any:
    """Records every screen proved (a None screen proves nothing): with one screen per step, the
    records `check` keeps unchanged."""
    import numpy as np

    all_sure = np.ones(n, dtype=bool)
    for s in sures:
        all_sure &= False if s is None else s
    return all_sure
