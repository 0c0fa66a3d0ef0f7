"""User scoring functions for the tests (loaded as `tests.rubric_funcs:NAME`)."""

from __future__ import annotations

import re


def quality_tag(conv, cand):
    """Reads a 'Q=<n>' tag from the answer: the test data says which answer is best."""
    m = re.search(r"Q=(\d+)", cand.content)
    return (float(m.group(1)), "tagged") if m else (0.0, "no tag")


def shorter_is_better(conv, cands):
    return [-(len(c.content)) for c in cands]


shorter_is_better.batched = True
