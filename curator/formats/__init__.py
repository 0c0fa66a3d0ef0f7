"""Every SFT format in and out of the one record model.

Each format module has ``NAME``, ``matches(row)``, ``parse(row, ReadOptions) -> Conversation``
(raising `RowError`) and ``render(Conversation, WriteOptions) -> dict`` (raising `RowError`
with code ``unrepresentable`` when the target cannot hold a record — never dropping silently).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Iterable

from curator.errors import RowError
from curator.formats import rejects
from curator.formats.common import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions
from curator.formats.record_formats import ALIASES, DETECT_ORDER, RECORD_FORMATS, find_format

# The record formats (curator/formats/record_formats.py) and the rejects file, which wraps a
# record of any of them under "record": tried last, and never the format inside a reject.
FORMATS: dict[str, ModuleType] = {**RECORD_FORMATS, rejects.NAME: rejects}
_DETECT_ORDER = (*DETECT_ORDER, rejects)

__all__ = ["FORMATS", "ALIASES", "ReadOptions", "WriteOptions", "DEFAULT_READ", "DEFAULT_WRITE", "get_format",
           "detect_format", "parse_row", "render_row", "RowError"]


def get_format(name: str) -> ModuleType:
    return find_format(FORMATS, name)


def detect_row(row: Any, column_map: dict[str, str] | None = None) -> ModuleType | None:
    if not isinstance(row, dict):
        return None
    if column_map:
        row = {next((o for o, t in column_map.items() if t == k), k): v for k, v in row.items()}
    for fmt in _DETECT_ORDER:
        if fmt.matches(row):
            return fmt
    return None


def detect_format(rows: Iterable[Any], column_map: dict[str, str] | None = None, sample: int = 20) -> ModuleType | None:
    """The format most of the first `sample` rows match, or None when none match."""
    votes: dict[str, int] = {}
    for i, row in enumerate(rows):
        if i >= sample:
            break
        fmt = detect_row(row, column_map)
        if fmt is not None:
            votes[fmt.NAME] = votes.get(fmt.NAME, 0) + 1
    if not votes:
        return None
    return FORMATS[max(votes, key=lambda k: (votes[k], -list(FORMATS).index(k)))]


def parse_row(row: Any, fmt: ModuleType, opts: ReadOptions = DEFAULT_READ):
    if not isinstance(row, dict):
        raise RowError("bad_structure", f"row is a {type(row).__name__}, not a JSON object",
                       fix="each row must be an object such as {\"messages\": [...]}")
    return fmt.parse(row, opts)


def render_row(conv, fmt: ModuleType, opts: WriteOptions = DEFAULT_WRITE) -> dict[str, Any]:
    return fmt.render(conv, opts)
