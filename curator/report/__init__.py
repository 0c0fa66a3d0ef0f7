"""The dataset report (`curate report`): composition, lengths, language, diversity, reasoning,
rejects, scores and generation info — as a dict (`--json`), a terminal summary and a
self-contained HTML page with inline SVG charts.

Package layout: `accum` (compact streaming accumulators), `profile` (`DatasetProfile`: what is counted per record),
`sampling` (which figures are estimated from a sample, and why), `scan` (the pass: one process
or byte ranges on a worker pool), `lang` (language labels), `svg` (hand-written charts), `html`
(the page). The input is read once; memory is flat apart from 16 bytes per record of hashes for
the exact-duplicate rates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import orjson

from curator import __version__
from curator.rejects import rejects_path

__all__ = ["describe", "rejects_beside"]


def rejects_beside(path: str | Path) -> dict[str, Any] | None:
    """Reason counts from `<in>.rejects.jsonl` (the rejects of the command that wrote `path`), if present."""
    rp = rejects_path(path)
    if not rp.is_file() or Path(path).resolve() == rp.resolve():
        return None
    by: dict[str, int] = {}
    total = 0
    with open(rp, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                reason = str(orjson.loads(line).get("reason", "(unknown)"))
            except (orjson.JSONDecodeError, AttributeError):
                reason = "(unreadable line)"
            by[reason] = by.get(reason, 0) + 1
            total += 1
    return {"path": str(rp), "total": total, "by_reason": dict(sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))}


def describe(path: str | Path, fmt: str | None = None, *, encoding: str | None = None,
             count_tokens: Callable[[str], int] | None = None, practice: Any = None, semantic: bool = False,
             workers: int | None = None, range_bytes: int | None = None) -> dict[str, Any]:
    """One input's report dict. Invalid rows are counted by reason, not described; prompts without
    answers are described (they are data too). `practice`: a `curator.practice.PracticeConfig`
    adds the practice checks (same pass, same near-duplicate sketches). `semantic`: add the
    semantic diversity section (from the prompts this pass sampled). `workers`: processes for a
    large JSONL file (None: one per core when it pays; `curator.report.scan`)."""
    from curator.report.scan import scan

    part = scan(path, fmt, encoding, count_tokens, practice, workers, range_bytes)
    st, ps = part.stats, part.practice
    d: dict[str, Any] = {"input": str(path), "version": __version__,
                         "format": next(iter(part.formats.values()), None), "rows": part.rows,
                         "invalid_rows": sum(part.invalid.values()), "invalid_by_reason": dict(part.invalid.most_common())}
    d.update(st.to_dict())
    d["rejects_file"] = rejects_beside(path)
    if ps is not None:
        from curator.practice import finish

        d["practice"] = finish(ps, practice, path, fmt, encoding)
    if semantic:
        from curator.report.diversity import has_selection_store, semantic_diversity

        d["semantic"] = (semantic_diversity(path, fmt, encoding=encoding) if has_selection_store(path)
                         else semantic_diversity(path, fmt, encoding=encoding, prompts=st.prompt_sample()))
    return d
