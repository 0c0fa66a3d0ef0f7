"""Embeddings on disk: float16 rows, memory-mapped, keyed by the content hash of each text.

Written beside an output as two files: ``<out>.embeddings.npy`` (an ``(n, dim)`` float16 array in
NumPy's own format, opened with ``mmap_mode="r"`` so a large store costs no memory until read)
and ``<out>.embeddings.json`` (the embedder identity, one content key and record id per row,
and what became of each record — `report` draws selected vs left-out from it). float16 halves the
bytes of float32 and changes a cosine by < 1e-3, far below any threshold anyone sets.

As a cache: `embed_texts` reuses every row whose key is in an existing store made by the same
embedder (same identity), and embeds only the rest — a re-run of `select` with another budget,
or `report` on select's output, does not embed again; a paid `/v1/embeddings` run is not paid
twice. A store that does not parse is ignored (and rebuilt), never a crash.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import orjson
import xxhash

from curator.embed import Embedder, LexicalEmbedder, normalise_rows


def text_key(text: str) -> str:
    """The content hash a vector is stored under (xxh3-128: identity, not security)."""
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass"))[:24]


def store_paths(out: str | Path) -> tuple[Path, Path]:
    """(data.embeddings.npy, data.embeddings.json) beside `data.jsonl` (any data suffix replaced)."""
    from curator.rejects import _sibling

    return _sibling(out, ".embeddings.npy"), _sibling(out, ".embeddings.json")


def load_store(out: str | Path) -> tuple[np.ndarray, dict[str, Any]] | None:
    """(memory-mapped float16 rows, index) of the store beside `out`, or None when absent/unreadable."""
    npy, js = store_paths(out)
    if not npy.is_file() or not js.is_file():
        return None
    try:
        index = orjson.loads(js.read_bytes())
        vecs = np.load(npy, mmap_mode="r")
        if vecs.ndim != 2 or len(index.get("keys", ())) != vecs.shape[0]:
            return None
        return vecs, index
    except (OSError, ValueError, orjson.JSONDecodeError):
        return None


def save_store(out: str | Path, vectors: np.ndarray, keys: Sequence[str], identity: dict[str, Any], *,
               ids: Sequence[str] | None = None, status: Sequence[str] | None = None,
               extra: dict[str, Any] | None = None) -> Path:
    """Write the store beside `out` atomically (temp files, then rename; the index last)."""
    npy, js = store_paths(out)
    npy.parent.mkdir(parents=True, exist_ok=True)
    tmp = npy.with_name(f".{npy.name}.{os.getpid()}.tmp.npy")
    try:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=vectors.shape)
        arr[:] = vectors
        arr.flush()
        del arr
        os.replace(tmp, npy)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    from curator.atomic import atomic_write_bytes

    index: dict[str, Any] = {"identity": identity, "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
                             "keys": list(keys)}
    if ids is not None:
        index["ids"] = list(ids)
    if status is not None:
        index["status"] = list(status)
    if extra:
        index.update(extra)
    atomic_write_bytes(js, orjson.dumps(index))
    return npy


def embed_texts(texts: Sequence[str], embedder: Embedder, *, cache: str | Path | None = None,
                stats: dict[str, int] | None = None) -> tuple[np.ndarray, list[str]]:
    """(unit float32 rows, content keys) for `texts`; rows found in the store beside `cache` (same
    embedder identity) are reused, each distinct missing text is embedded once."""
    keys = [text_key(t) for t in texts]
    if isinstance(embedder, LexicalEmbedder):
        embedder.fingerprint_corpus(keys)
    identity = embedder.identity()
    have: dict[str, np.ndarray] = {}
    found = load_store(cache) if cache else None
    if found is not None and found[1].get("identity") == identity:
        vecs, index = found
        want = set(keys)
        for r, k in enumerate(index["keys"]):
            if k in want and k not in have:
                have[k] = r  # type: ignore[assignment]
        rows = {k: np.asarray(vecs[r], dtype=np.float32) for k, r in have.items()}  # type: ignore[index]
    else:
        rows = {}
    missing_keys: list[str] = []
    missing_texts: list[str] = []
    seen = set(rows)
    for k, t in zip(keys, texts):
        if k not in seen:
            seen.add(k)
            missing_keys.append(k)
            missing_texts.append(t)
    dim = None
    if missing_texts:
        new = embedder.embed(missing_texts)
        dim = new.shape[1]
        for k, v in zip(missing_keys, new):
            rows[k] = v
    if stats is not None:
        fresh = set(missing_keys)
        stats["reused"] = sum(1 for k in keys if k not in fresh)
        stats["embedded"] = len(missing_texts)
    if not keys:
        return np.zeros((0, getattr(embedder, "dim", 1)), dtype=np.float32), keys
    dim = dim or len(next(iter(rows.values())))
    out = np.empty((len(keys), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = rows[k]
    return normalise_rows(out), keys
