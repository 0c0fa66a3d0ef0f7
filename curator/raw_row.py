"""`RawRow`: one input row before parsing, as every reader yields it.

A leaf module so that readers outside `curator.io` (`curator.tabular` for CSV/TSV/Excel) yield the
same type without importing `curator.io`, which itself calls them (no import cycle).
`curator.io` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from curator.errors import RowError


@dataclass(slots=True)
class RawRow:
    """One input row before parsing: `row` is the decoded JSON, or None with `error` set."""

    n: int  # 1-based line (JSONL) or row (arrays, Parquet)
    row: Any
    error: RowError | None = None
    raw: Any = None  # the undecodable text, kept for the rejects file
    clean: bool = False  # the raw line was screened: no text can hold a bad character
