"""`<out>.manifest.json`: what a command did, so a run can be audited and skipped when unchanged.

Holds the version, command line, parameters (secrets removed), input hashes, counts in / out /
rejected by reason (and, for sampling stages, excluded), and seconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterable

import orjson
import xxhash

from curator import __version__
from curator.atomic import atomic_write_bytes
from curator.redact import redact, redact_argv

# One redactor for everything written or printed (curator.redact); these names stay for callers.
scrub = redact
scrub_argv = redact_argv


# Hashes a command already computed while it read every byte of a file in order (the local engine
# cuts JSON Lines into ranges that way), keyed by the file's identity and the stat it had before
# that read: the manifest then need not read a large input a second time, alone, at the end.
_SEEN: dict[tuple[int, int, int, int], str] = {}


def _stat_key(path: str | Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def seen_hash(path: str | Path, before: tuple[int, int, int, int], digest: str) -> None:
    """Remember `digest`, the xxh3-128 of all of `path` read in order, if the file is unchanged
    since `before` (its `_stat_key` taken before that read)."""
    if _stat_key(path) == before:
        _SEEN[before] = digest


def file_hash(path: str | Path) -> str:
    """xxh3-128 of a file (or of every file in a folder, in name order)."""
    p = Path(path)
    if p.is_file():
        known = _SEEN.get(_stat_key(p))
        if known is not None:
            return known
    h = xxhash.xxh3_128()
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def _input_entry(p: str | Path) -> dict[str, Any]:
    # A pipe was consumed by the read; hashing it would read it a second time (and hang).
    if not Path(p).is_file() and not Path(p).is_dir():
        return {"path": str(p), "xxh3_128": None, "note": "not a regular file: not hashed"}
    return {"path": str(p), "xxh3_128": file_hash(p)}


def build_manifest(
    *,
    command: str,
    params: dict[str, Any],
    inputs: Iterable[str | Path],
    outputs: dict[str, str],
    counts: dict[str, Any],
    seconds: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    m: dict[str, Any] = {
        "tool": "sft-curator",
        "version": __version__,
        "command": command,
        "argv": scrub_argv(sys.argv),
        "params": scrub(params),
        "inputs": [_input_entry(p) for p in inputs if Path(p).exists()],
        "outputs": redact(outputs),
        "counts": counts,
        "seconds": round(seconds, 3),
    }
    if extra:
        m.update(redact(extra))
    return m


def output_sizes(outputs: dict[str, str]) -> dict[str, int | None]:
    """Bytes of each committed output file, stored in the manifest: a reader trusts an output only
    when the manifest exists and these still match (see `is_committed`)."""
    sizes: dict[str, int | None] = {}
    for key, path in outputs.items():
        try:
            st = os.stat(path)
        except OSError:
            sizes[key] = None
            continue
        sizes[key] = st.st_size if not Path(path).is_dir() else -1
    return sizes


def is_committed(manifest_file: str | Path) -> bool:
    """Whether a manifest exists and the output files it describes are the ones it committed."""
    try:
        m = read_manifest(manifest_file)
    except (OSError, ValueError):
        return False
    sizes = m.get("output_sizes")
    outputs = m.get("outputs")
    if not isinstance(sizes, dict) or not isinstance(outputs, dict):
        return False
    return output_sizes({k: outputs[k] for k in sizes if k in outputs}) == sizes


def write_manifest(path: str | Path, manifest: dict[str, Any]) -> None:
    atomic_write_bytes(path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2, default=str) + b"\n")


def read_manifest(path: str | Path) -> dict[str, Any]:
    return orjson.loads(Path(path).read_bytes())
