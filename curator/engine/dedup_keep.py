"""Dedup's pass 2 stage, in a module of its own so that both the general route (`dedup_tasks`) and the
plain-row route (`dedup_plain`) use it without importing each other: the driver tells each range
which of its records to drop (`dedup_tasks.drops_payload`); `KeepStage` yields the kept records and
writes the drops' reject lines, with a `ref` to the input line under `--rejects-mode ref`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from curator.engine.ranges import Range


@dataclass
class KeepStage:
    """Pass 2: a `RangeTask` stage bound, per range, to the driver's list of that range's drops."""

    n: int = -1
    drops: dict[int, list] | None = None
    ref: dict[str, Any] | None = None
    skip: frozenset = frozenset()
    pos: int = -1  # index in the range of the last record seen; kept across calls (`dedup_plain`)
    lines: Any = None  # the range's `RangeLines`, for `--rejects-mode ref`

    def bind(self, payload: bytes) -> "KeepStage":
        p = orjson.loads(payload)
        return KeepStage(p["n"], {int(d[0]): d[1:] for d in p["drops"]}, p.get("ref"), frozenset(p.get("skip") or ()))

    def __call__(self, convs, reject, counts):
        from curator.errors import UsageError

        drops = self.drops or {}
        if self.ref and drops and self.lines is None:  # read once per range, however many calls
            self.lines = RangeLines(Range(**self.ref["range"]))
        lines = self.lines
        skip = self.skip
        for conv in convs:
            if skip and conv.origin and conv.origin[1] in skip:
                continue  # rejected by pass 1 (read here without validation)
            self.pos += 1
            i = self.pos
            counts["records"] += 1
            d = drops.get(i)
            if d is None:
                conv.add_lineage("dedup")
                yield conv
                continue
            rid, reason, message, extra = d
            if conv.id != rid:
                raise UsageError(f"{conv.origin[0] if conv.origin else 'an input'}: changed while dedup was reading "
                                 f"it (record {conv.id!r} where {rid!r} was); run again")
            if lines is not None and conv.origin and reason != "conflict":
                extra = {**extra, "ref": lines.ref(conv.origin[1], self.ref.get("format"))}
            reject(conv, reason, message, **extra)


class RangeLines:
    """Byte offsets of the lines of one JSONL range (read once, only when it has drops to reference)."""

    def __init__(self, r: Range):
        import os

        self.r = r
        with open(r.file(), "rb") as fh:
            fh.seek(r.start)
            self.data = fh.read(r.end - r.start)
        nl = np.frombuffer(self.data, np.uint8) == 10
        self.starts = np.concatenate(([0], np.flatnonzero(nl) + 1)).astype(np.int64)
        self.file = os.path.abspath(r.file())

    def ref(self, line: int, fmt: str | None) -> dict[str, Any]:
        import xxhash

        k = line - self.r.first
        lo = int(self.starts[k])
        hi = int(self.starts[k + 1]) - 1 if k + 1 < len(self.starts) else len(self.data)
        raw = self.data[lo:hi]
        return {"file": self.file, "offset": self.r.start + lo, "length": len(raw), "line": line,
                "xxh3": xxhash.xxh3_64_hexdigest(raw), "format": fmt}
