"""Cut input files into ranges that Ray tasks read independently, each keeping exact line numbers.

Why ranges and not `ray.data.read_json`: every reject names its `file:line`, and `read_json`
neither keeps line numbers nor survives one invalid JSON line (it fails the whole block). So the
driver cuts each plain JSONL file into line-aligned byte ranges and counts the newlines before each
cut (one sequential scan at disk speed, ~1-2 GB/s; no parsing); a task then reads its bytes and
numbers its lines from the range's first line. Parquet is cut by row groups (row numbers are the
sum of the groups before). Compressed JSONL, JSON arrays and datasets folders cannot be cut without
decompressing or loading them, so each is one range (one task) — split such inputs into shards, or
convert them to JSONL/Parquet first, to spread them over a cluster.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import xxhash

from curator.manifest import _stat_key, seen_hash

DEFAULT_RANGE_BYTES = 8 << 20


@dataclass(frozen=True)
class Range:
    """One unit of work: `kind` jsonl (bytes start..end), parquet (row groups), or whole (file)."""

    path: str  # as the user gave it: the label in messages (`file:line`)
    kind: str
    first: int  # line (jsonl) or row (parquet, whole) number of the range's first row
    start: int = 0  # jsonl: byte offset; parquet: first row group
    end: int = 0  # jsonl: byte end (exclusive); parquet: last row group (exclusive)
    abspath: str = ""  # what a worker opens (workers do not share the driver's working directory)

    def file(self) -> str:
        return self.abspath or self.path

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cuttable_jsonl(p: Path) -> bool:
    """A plain JSON Lines file, which is cut into byte ranges (anything else is one range)."""
    if not (p.is_file() and p.name.lower().endswith((".jsonl", ".ndjson"))):
        return False
    from curator.io import looks_like_json_array

    with open(p, "rb") as fh:  # a JSON array saved as .jsonl is read whole (curator.io), never cut in ranges
        return not looks_like_json_array(fh.read(65536))


def jsonl_ranges(path: str | os.PathLike[str], range_bytes: int = DEFAULT_RANGE_BYTES) -> list[Range]:
    """Line-aligned byte ranges of about `range_bytes` (a line longer than that is one range)."""
    return list(iter_jsonl_ranges(path, range_bytes))


def iter_jsonl_ranges(path: str | os.PathLike[str], range_bytes: int = DEFAULT_RANGE_BYTES, *,
                      hash_file: bool = False) -> Iterator[Range]:
    """`jsonl_ranges`, one at a time: the local pool starts on the first range while the rest
    of the file is still being cut (the newline count is a sequential read of the whole file).
    `hash_file`: hash the bytes on the way, for the manifest (`curator.manifest.seen_hash`)."""
    pos, line = 0, 1
    h = xxhash.xxh3_128() if hash_file else None
    before = _stat_key(path) if hash_file else None
    buf = bytearray(range_bytes)  # one buffer, read into again and again: fresh pages cost faults
    view = memoryview(buf)
    with open(path, "rb") as fh:
        while True:
            fh.seek(pos)
            got = fh.readinto(view)
            if not got:
                if h is not None:
                    seen_hash(path, before, h.hexdigest())  # type: ignore[arg-type]
                return
            block: bytes | bytearray = buf
            cut = buf.rfind(b"\n", 0, got) + 1
            if not cut:  # no newline yet: one line longer than a range (or the file's last line)
                block = bytes(view[:got])
                while not cut:
                    more = fh.read(range_bytes)
                    block += more
                    cut = block.rfind(b"\n") + 1 if more else len(block)
            if h is not None:
                h.update(memoryview(block)[:cut])
            yield Range(str(path), "jsonl", line, pos, pos + cut)
            line += block.count(b"\n", 0, cut)
            pos += cut


def parquet_ranges(path: str | os.PathLike[str], range_rows: int = 65536) -> list[Range]:
    """Runs of whole row groups of about `range_rows` rows."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    out: list[Range] = []
    g0, row, acc = 0, 1, 0
    for g in range(meta.num_row_groups):
        acc += meta.row_group(g).num_rows
        if acc >= range_rows or g == meta.num_row_groups - 1:
            out.append(Range(str(path), "parquet", row, g0, g + 1))
            row += acc
            g0, acc = g + 1, 0
    return out


def plan_ranges(path: str | os.PathLike[str], range_bytes: int = DEFAULT_RANGE_BYTES) -> list[Range]:
    """The ranges of one input, in file order."""
    return list(iter_ranges(path, range_bytes))


def iter_ranges(path: str | os.PathLike[str], range_bytes: int = DEFAULT_RANGE_BYTES, *,
                hash_file: bool = False) -> Iterator[Range]:
    """`plan_ranges`, one at a time (JSON Lines is cut as it is read, and hashed on the way for
    the manifest with `hash_file`)."""
    p = Path(path)
    full = str(p.resolve())
    if cuttable_jsonl(p):
        for r in iter_jsonl_ranges(p, range_bytes, hash_file=hash_file):
            yield replace(r, abspath=full)
        return
    ranges = [Range(str(p), "whole", 1)]
    if p.is_file() and p.name.lower().endswith(".parquet"):
        try:
            ranges = parquet_ranges(p)
        except Exception:  # unreadable: one whole-file range reports it the way the local reader does
            pass
    for r in ranges:
        yield replace(r, abspath=full)


def range_bytes_for(paths: list[str | os.PathLike[str]], workers: int) -> int:
    """Ranges small enough for 4 tasks per worker (load balance), between 1 MiB and 64 MiB."""
    total = sum(Path(p).stat().st_size for p in paths if Path(p).is_file())
    return int(min(64 << 20, max(1 << 20, total // max(1, 4 * workers))))
