"""The report's pass over one input: in this process, or over line-aligned byte ranges of a JSONL
file on a pool of forked worker processes, merged in file order.

Each worker fills its own accumulators (`DatasetProfile`, `PracticeFacts`, the invalid-row counts)
for one range and returns them; the parent merges them range by range in file order, and every
accumulator's `merge` gives what one process gets adding the records one by one (tests compare
the two). The sample (`curator.report.sampling`) is decided by line number, so it is the same
records whichever process reads them.

When: plain JSONL files of at least `curator.engine.local.AUTO_MIN_BYTES`, one worker per core
(the same rule as the streaming commands' `--workers auto`). Ranges reuse the local engine's
range plan and reader (`curator.engine`), so rows, line numbers and invalid-row reasons are the
ones the one-process reader gives. Why fork: the tokenizer for `--tokenizer` is loaded once and
inherited, and only range descriptions go to the workers.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from curator.io import ReadStats, read_records
from curator.rejects import RejectSink
from curator.report.sampling import count_lines, in_sample, step_for
from curator.report.profile import DatasetProfile

ALLOW = ("no_assistant", "no_final_answer")  # prompts without answers are described, not rejected


@dataclass
class Part:
    """What one pass (or one range of it) counted."""

    stats: DatasetProfile
    practice: Any  # a PracticeFacts, or None
    rows: int = 0
    formats: dict[str, str] = field(default_factory=dict)
    invalid: Counter = field(default_factory=Counter)  # reason -> rows, in first-seen order


def _new_part(count_tokens: Callable[[str], int] | None, practice: Any) -> Part:
    st = DatasetProfile(count_tokens)
    ps = None
    if practice is not None:
        from curator.practice import PracticeFacts

        ps = PracticeFacts(practice, near=st.near_dups)  # the records are sketched once, for both
    return Part(st, ps)


def _count(part: Part, convs: Any, k: int) -> None:
    st, ps = part.stats, part.practice
    for conv in convs:
        st.add(conv, k == 1 or (conv.origin is not None and in_sample(conv.origin[1], k)))
        if ps is not None:
            ps.add(conv)


def _plain_jsonl(path: Path) -> bool:
    from curator.engine.ranges import cuttable_jsonl

    return cuttable_jsonl(path)


def _newline_safe(encoding: str | None) -> bool:
    """True when a b"\\n" byte in the file is always a line end (UTF-8, GB18030, Big5, Latin-1, ...),
    so the file can be cut at newlines; UTF-16/32 files are read in one process."""
    if encoding is None:
        return True
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False  # the reader says what is wrong with it
    return "\n".encode(name) == b"\n" and name not in ("utf-7",)


def scan(path: str | Path, fmt: str | None, encoding: str | None, count_tokens: Callable[[str], int] | None,
         practice: Any, workers: int | None = None, range_bytes: int | None = None) -> Part:
    """Count every record of `path`. `workers`: None for auto, 1 for this process only;
    `range_bytes`: the size of a worker's range (default: 8 ranges per worker, 1-16 MiB)."""
    p = Path(path)
    plain = _plain_jsonl(p) and _newline_safe(encoding)  # lines can be counted and cut at b"\n"
    if plain:
        from curator.engine.local import resolve_workers

        n = resolve_workers(workers, [p])
        if n > 1:
            return _scan_ranges(p, fmt, encoding, count_tokens, practice, n, range_bytes)
    k = step_for(count_lines(p)) if plain else 1
    part = _new_part(count_tokens, practice)
    sink = RejectSink(None, stage="report")
    rs = ReadStats()
    _count(part, read_records(path, fmt, encoding=encoding, rejects=sink, allow=ALLOW, stats=rs), k)
    part.rows, part.formats, part.invalid = rs.rows, dict(rs.formats), sink.counts
    return part


# set before the pool forks; the workers find it in their copy of this module
_JOB: tuple[Any, Callable[[str], int] | None, Any, int] | None = None


def _work(r: dict[str, Any]) -> Part:
    from curator.engine.ranges import Range
    from curator.engine.tasks import read_range

    assert _JOB is not None
    spec, count_tokens, practice, k = _JOB
    part = _new_part(count_tokens, practice)
    part.stats.uncap()  # capped counters are capped when merged, as one pass caps them
    if part.practice is not None:
        part.practice.uncap()
    sink = RejectSink(None, stage="report")
    rs = ReadStats()
    _count(part, read_range(Range(**r), spec, sink, rs), k)
    part.stats.near_dups._flush()  # sketch in the worker, not in the parent
    part.stats.count_tokens = None  # a tokenizer does not travel back; the parent has its own
    part.rows, part.invalid = rs.rows, sink.counts
    return part


def _scan_ranges(p: Path, fmt: str | None, encoding: str | None, count_tokens: Callable[[str], int] | None,
                 practice: Any, n: int, range_bytes: int | None) -> Part:
    global _JOB
    from curator.engine.driver import detect_formats
    from curator.engine.local import RANGE_MAX, RANGE_MIN
    from curator.engine.ranges import plan_ranges
    from curator.engine.tasks import ReadSpec
    from curator.formats import DEFAULT_READ

    rs = ReadStats()
    formats = detect_formats([p], fmt, DEFAULT_READ, encoding, rs)
    spec = ReadSpec(formats=formats, encoding=encoding, allow=ALLOW)
    size = range_bytes or min(RANGE_MAX, max(RANGE_MIN, p.stat().st_size // (8 * n)))
    ranges = plan_ranges(p, size)
    k = step_for(_lines(ranges))
    total = _new_part(count_tokens, practice)
    total.formats = dict(rs.formats)
    _JOB = (spec, count_tokens, practice, k)
    try:
        with mp.get_context("fork").Pool(n) as pool:
            for part in pool.imap(_work, [r.to_dict() for r in ranges]):
                merge(total, part)
    finally:
        _JOB = None
    return total


def _lines(ranges: list[Any]) -> int:
    """Lines of the file from its range plan (which counted them up to the last range), as
    `count_lines` counts them, reading only the last range."""
    if not ranges:
        return 0
    last = ranges[-1]
    with open(last.file(), "rb") as fh:
        fh.seek(last.start)
        data = fh.read(last.end - last.start)
    return last.first - 1 + data.count(b"\n") + (not data.endswith(b"\n") and bool(data))


def merge(total: Part, part: Part) -> None:
    """Add a later range's counts to `total` (file order)."""
    total.stats.merge(part.stats)
    if total.practice is not None:
        total.practice.merge(part.practice)
    total.rows += part.rows
    total.invalid.update(part.invalid)
