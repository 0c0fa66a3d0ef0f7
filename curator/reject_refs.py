"""Resolve a reference reject (`curate dedup --rejects-mode ref`) back to the row it points at.

A reference names the input line instead of copying it: ``{"file", "offset", "length", "line",
"xxh3", "format"}`` — the absolute path, the byte offset and length of the line (without its
newline), its 1-based line number, the xxh3-64 hash of those bytes and the format the line was
read as. Reading it back re-reads exactly those bytes and checks the hash, so a file edited,
truncated or replaced since the dedup run gives a clear error instead of a different record.
"""

from __future__ import annotations

from typing import Any

from curator.errors import RowError

_BOM = b"\xef\xbb\xbf"
_OPEN: dict[str, int] = {}  # a few inputs kept open: a rejects file points into the same files, row after row
_MAX_OPEN = 8


def _read(path: str, offset: int, length: int) -> bytes:
    """`length` bytes at `offset`, by pread: no shared file position, so forked workers that
    inherited the descriptor cannot move each other's reads."""
    import os

    fd = _OPEN.pop(path, None)
    if fd is None:
        fd = os.open(path, os.O_RDONLY)
        while len(_OPEN) >= _MAX_OPEN:
            os.close(_OPEN.pop(next(iter(_OPEN))))
    _OPEN[path] = fd  # most recently used last
    return os.pread(fd, length, offset)


def resolve(ref: dict[str, Any]) -> dict[str, Any]:
    """The original input row (a dict) a reference points at, verified by its hash."""
    import orjson
    import xxhash

    try:
        path, offset, length, digest = str(ref["file"]), int(ref["offset"]), int(ref["length"]), str(ref["xxh3"])
    except (KeyError, TypeError, ValueError):
        raise RowError("bad_structure", f"a reference reject needs file, offset, length and xxh3 (got {sorted(ref)})",
                       fix="use the rejects file as dedup wrote it, or run dedup again with --rejects-mode full")
    where = f"{path}:{ref.get('line')} (byte {offset})"
    try:
        raw = _read(path, offset, length)
    except OSError as e:
        raise RowError("ref_unreadable", f"the referenced input {where} cannot be read ({e.strerror or e})",
                       fix=f"restore {path}, or set ref.file to where the file is now") from None
    if len(raw) != length or xxhash.xxh3_64_hexdigest(raw) != digest:
        raise RowError("ref_changed", f"the referenced input {where} changed since dedup wrote this reject "
                       "(the line's hash differs)",
                       fix="restore the file dedup read, or run dedup again (with --rejects-mode full to copy records)")
    if offset == 0 and raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    try:
        row = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise RowError("bad_json", f"the referenced input {where} is not JSON ({e})",
                       fix="restore the file dedup read") from None
    if not isinstance(row, dict):
        raise RowError("bad_structure", f"the referenced input {where} is not a JSON object",
                       fix="restore the file dedup read")
    return row
