"""Random access to the rows of a file, without loading the file.

Plain JSONL (the format of every queue the other commands write) is opened through a line
index: one pass over the bytes in 16 MiB chunks finds the newlines with numpy (no Python loop
per line), the offsets are cached beside the file keyed by its size and mtime, and rows are
read on demand through `mmap`. Opening a 1,000,000-line file therefore costs one vectorised
scan the first time and one `np.fromfile` afterwards, and memory is the offsets (8 bytes a
row) plus the rows on screen.

Other containers (.json arrays, .jsonl.gz, .parquet, datasets folders) cannot be indexed by
byte offset; they are read whole through `curator.io.iter_rows` — fine for the queue sizes
people review by hand, and said so in docs/review.md.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from curator.atomic import atomic_write_bytes
from curator.errors import UsageError

_CHUNK = 16 << 20
_MAGIC = b"CRIDX001"


def index_path(path: Path) -> Path:
    return path.with_name(path.name + ".review.idx")


def _key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def scan_lines(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(start offset, 1-based line number) of every non-blank line of `path`."""
    starts_parts: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    size = 0
    with open(path, "rb") as fh:
        buf = bytearray(_CHUNK)
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            arr = np.frombuffer(buf, dtype=np.uint8, count=n)
            nl = np.flatnonzero(arr == 10)
            starts_parts.append(nl.astype(np.int64) + (size + 1))
            size += n
    starts = np.concatenate(starts_parts)  # starts of every line, plus one at EOF if the file ends in \n
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    ends[-1] = size
    length = ends - starts
    keep = length > 0
    if keep.any():
        # "\r" alone (CRLF blank line) is blank too; checking only short lines keeps this cheap.
        short = np.flatnonzero(keep & (length <= 2))
        if len(short):
            with open(path, "rb") as fh:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
                for i in short:
                    if mm is not None and not mm[starts[i]:ends[i]].strip():
                        keep[i] = False
                if mm is not None:
                    mm.close()
    lines = np.flatnonzero(keep).astype(np.int64) + 1
    return starts[keep], lines


def load_index(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The line index of `path`, from the cache when its size and mtime still match."""
    key = _key(path)
    cache = index_path(path)
    try:
        with open(cache, "rb") as fh:
            head = fh.read(32)
            if head[:8] == _MAGIC:
                size, mtime, n = np.frombuffer(head[8:32], dtype=np.int64)
                if (int(size), int(mtime)) == key:
                    both = np.fromfile(fh, dtype=np.int64, count=2 * int(n))
                    if len(both) == 2 * n:
                        return both[:n], both[n:]
    except OSError:
        pass
    starts, lines = scan_lines(path)
    header = _MAGIC + np.array([key[0], key[1], len(starts)], dtype=np.int64).tobytes()
    try:
        atomic_write_bytes(cache, header + starts.tobytes() + lines.tobytes())
    except OSError:
        pass  # a read-only folder: the index is only a cache
    return starts, lines


class RowSource:
    """Rows of one file by position: `len(src)`, `src.raw(i)` (bytes or object), `src.line(i)`."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if not self.path.exists():
            raise UsageError(f"{self.path}: no such file")
        name = self.path.name.lower()
        self._mm: mmap.mmap | None = None
        self._rows: list[Any] | None = None
        if self.path.is_file() and name.endswith((".jsonl", ".ndjson")):
            self.starts, self.lines = load_index(self.path)
            if self.path.stat().st_size:
                with open(self.path, "rb") as fh:
                    self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        else:
            from curator.io import iter_rows

            rows = list(iter_rows(self.path))
            self._rows = [r.row if r.error is None else {"__error__": r.error.sentence(), "__raw__": r.raw}
                          for r in rows]
            self.lines = np.array([r.n for r in rows], dtype=np.int64)
            self.starts = self.lines

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, i: int) -> int:
        return int(self.lines[i])

    def raw_bytes(self, i: int) -> bytes | None:
        """The row's bytes (JSONL) or None for containers read whole."""
        if self._mm is None:
            return None
        start = int(self.starts[i])
        end = self._mm.find(b"\n", start)
        data = self._mm[start: end if end >= 0 else len(self._mm)].rstrip(b"\r")
        return data[3:] if start == 0 and data.startswith(b"\xef\xbb\xbf") else data  # UTF-8 BOM

    def row(self, i: int) -> Any:
        """The decoded row; an undecodable line becomes ``{"__error__": why, "__raw__": text}``."""
        if self._rows is not None:
            return self._rows[i]
        data = self.raw_bytes(i) or b""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as e:
            return {"__error__": f"invalid JSON: {e}", "__raw__": data.decode("utf-8", "replace")}

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None
