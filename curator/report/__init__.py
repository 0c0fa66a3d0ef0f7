"""The dataset report (`curate report`): composition, lengths, language, diversity, reasoning,
rejects, scores and generation info — as a dict (`--json`), a terminal summary and a
self-contained HTML page with inline SVG charts.

Package layout: `accum` (compact streaming accumulators), `stats` (what is counted per record),
`lang` (script-based language guess), `svg` (hand-written charts), `html` (the page).
The input is streamed once; memory is flat apart from 16 bytes per record of hashes for the
exact-duplicate rates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import orjson

from curator import __version__
from curator.io import ReadStats, read_records
from curator.rejects import RejectSink, rejects_path
from curator.report.stats import ReportStats

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
             count_tokens: Callable[[str], int] | None = None, practice: Any = None) -> dict[str, Any]:
    """One input's report dict. Invalid rows are counted by reason, not described; prompts without
    answers are described (they are data too). `practice`: a `curator.practice.PracticeConfig`
    adds the practice checks (same pass, same near-duplicate sketches)."""
    sink = RejectSink(None, stage="report")
    rs = ReadStats()
    st = ReportStats(count_tokens)
    ps = None
    if practice is not None:
        from curator.practice import PracticeStats

        ps = PracticeStats(practice, near=st.near_dups)
    for conv in read_records(path, fmt, encoding=encoding, rejects=sink, allow=("no_assistant", "no_final_answer"),
                             stats=rs):
        st.add(conv)
        if ps is not None:
            ps.add(conv)
    d: dict[str, Any] = {"input": str(path), "version": __version__,
                         "format": next(iter(rs.formats.values()), None), "rows": rs.rows,
                         "invalid_rows": len(sink), "invalid_by_reason": dict(sink.counts.most_common())}
    d.update(st.to_dict())
    d["rejects_file"] = rejects_beside(path)
    if ps is not None:
        from curator.practice import finish

        d["practice"] = finish(ps, practice, path, fmt, encoding)
    return d
