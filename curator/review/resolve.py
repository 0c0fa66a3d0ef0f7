"""Resolve group members written as references (``{"id", "source", "line"}``) to their records.

`curate dedup --report` and `--conflicts` name each member by file and line only; a reviewer
deciding which answer is right needs the prompts and answers side by side. The resolver opens the
member's source file (as written, then relative to the reviewed file's folder, then by name in
that folder) and reads that one line — a JSONL file is indexed once by line offsets, so memory
stays a few bytes per line; other files are read through `curator.io`.
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any

import orjson

from curator.review.items import ReviewItem, parse_conversation


class MemberResolver:
    def __init__(self, base: Path):
        self.base = base
        self._offsets: dict[Path, array | None] = {}
        self._rows: dict[Path, dict[int, Any]] = {}

    def _find(self, source: str) -> Path | None:
        p = Path(source)
        for cand in (p, self.base / p, self.base / p.name):
            if cand.is_file():
                return cand
        return None

    def _row(self, path: Path, line: int) -> Any:
        name = path.name.lower()
        if name.endswith((".jsonl", ".ndjson")):
            if path not in self._offsets:
                offs = array("q")
                pos = 0
                with open(path, "rb") as fh:
                    for raw in fh:
                        offs.append(pos)
                        pos += len(raw)
                self._offsets[path] = offs
            offs = self._offsets[path]
            if not offs or not 1 <= line <= len(offs):
                return None
            with open(path, "rb") as fh:
                fh.seek(offs[line - 1])
                try:
                    return orjson.loads(fh.readline())
                except orjson.JSONDecodeError:
                    return None
        if path not in self._rows:
            from curator.io import iter_rows

            try:
                self._rows[path] = {r.n: r.row for r in iter_rows(path)}
            except Exception:  # noqa: BLE001 - an unreadable source just leaves the member unresolved
                self._rows[path] = {}
        return self._rows[path].get(line)

    def fill(self, item: ReviewItem) -> None:
        """Give each unresolved member that names a source and line its conversation (in place)."""
        for mem in item.members:
            ref = mem.raw
            if mem.conv is not None or not isinstance(ref, dict) or not ref.get("source") or not ref.get("line"):
                continue
            path = self._find(str(ref["source"]))
            if path is None:
                continue
            row = self._row(path, int(ref["line"]))
            conv = parse_conversation(row) if row is not None else None
            if conv is not None:
                mem.conv = conv
                mem.raw = None
                extra = ", ".join(f"{k} {ref[k]}" for k in ("reason", "similarity") if ref.get(k) is not None)
                mem.label += f" — {path.name}:{ref['line']}" + (f" ({extra})" if extra else "")
