"""The `repetition` filter's batch screen: which records are proven to pass both of its measures.

Per text (each content, and each reasoning when `include_reasoning`), in the order `_check` uses:

* lines: when the text has at least `min_lines` lines, a text whose non-empty stripped lines are
  all different has no line repeating an earlier one among the long ones either (ratio 0, which
  passes any `max_dup_line_ratio >= 0`); otherwise the exact `duplicate_line_ratio` decides.
* n-grams: `ngram_screen.ngram_bounds` gives the exact token count and an upper bound of the
  repeated share; a bound at or under `max_ngram_ratio` proves the exact share is too.

A record passes when every text of it passes both; the rest go through the plain `filter`.
"""

from __future__ import annotations

from typing import Any


def screen_repetition(f: Any, view: Any) -> Any:
    import numpy as np

    from curator.filters.repeats import _FENCED, duplicate_line_ratio
    from curator.filters.ngram_screen import ngram_bounds

    texts, owner = view.texts(f.roles, reasoning=f.include_reasoning)
    # `filter` skips empty texts, and measures the rest with fenced code cut out
    keep = [i for i, t in enumerate(texts) if t]
    texts = [texts[i] for i in keep]
    if f.ignore_code:  # ("`" first: `in` finds one character at memchr speed, and most texts have none)
        texts = [_FENCED.sub("", t) if "`" in t and "```" in t else t for t in texts]
    owner = owner[keep]
    ok = np.ones(len(texts), dtype=bool)

    if f.max_dup_line_ratio is not None:
        quick = f.max_dup_line_ratio >= 0 and f.min_line_chars >= 1
        for i, t in enumerate(texts):
            if t.count("\n") + 1 < f.min_lines:
                continue
            if quick:
                lines = list(map(str.strip, t.splitlines()))
                blank = lines.count("")
                if len(set(lines)) - (1 if blank else 0) == len(lines) - blank:
                    continue
            r, n = duplicate_line_ratio(t, f.min_line_chars)
            if n >= f.min_lines and r > f.max_dup_line_ratio:
                ok[i] = False

    if f.max_ngram_ratio is not None:
        sel = [i for i, t in enumerate(texts) if len(t) >= f.min_tokens]
        if sel:
            counts, bound = ngram_bounds([texts[i] for i in sel], f.ngram)
            short = (counts >= 0) & ((counts < f.min_tokens) | (counts < f.ngram))
            with np.errstate(invalid="ignore"):
                passes = short | ((counts >= 0) & (bound <= f.max_ngram_ratio))
            ok[np.asarray(sel)[~passes]] = False
    return view.sure_except(owner[~ok])
