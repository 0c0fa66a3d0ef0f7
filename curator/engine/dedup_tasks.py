"""Dedup's per-range work, shared by the local process pool (`local_dedup.py`) and Ray (`ray_dedup.py`).

- `sketch_range`: pass 1 over one input range — parse and validate its rows (bad rows become reject
  lines; plain rows skip the `Conversation`, see `dedup_plain`), then `curator.dedup.record_fields`
  and `sketch_batch` give the compact per-record state
  (exact keys, MinHash signatures, shingle counts, ids, origins, lengths, scores). No text leaves
  the worker, only numpy arrays and ids.
- `drops_payload` + `KeepStage`: pass 2 — the driver tells each range which of its records to drop
  and why (worded once, by `curator.dedup.drop_reason`); the range's worker re-reads and
  renders the kept records (plain ones straight from the row: `dedup_plain.keep_range`) and writes
  the drops' reject lines.

`--rejects-mode ref`: a dropped duplicate's reject line carries a `ref` (file, byte offset, length,
line, xxh3 of the line's bytes, format) instead of the record; `curator.formats.rejects` resolves
it when the rejects file is read back. Only plain JSONL ranges have byte offsets; drops from other
inputs (gzip, JSON arrays, Parquet, a FIFO) keep the full record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from curator.dedup import BatchSketch, DedupConfig, sketch_batch
from curator.engine.dedup_keep import KeepStage  # noqa: F401 (pass 2's stage, imported from here by the drivers)
from curator.engine.dedup_plain import range_fields
from curator.engine.ranges import Range
from curator.engine.tasks import BufferSink, ReadSpec
from curator.io import ReadStats, _is_utf8

SKETCH_BATCH = 2048  # records per `sketch_batch` call: a few MB of code points, cache-friendly
REJECTS_MODES = ("full", "ref")


@dataclass
class RangeSketch:
    """Pass 1's result for one range (what crosses the pipe: arrays, ids, reject lines)."""

    n: int  # valid records
    rows: int  # rows read (valid + bad)
    sketch: BatchSketch
    ids: list[str]
    origins: list[Any]
    lengths: np.ndarray  # int64
    scores: np.ndarray  # float64
    rejects: list[bytes]  # the bad rows' reject lines, in order


def sketch_range(r: Range, read: ReadSpec, cfg: DedupConfig) -> RangeSketch:
    """Pass 1 over one range: parse, validate, sketch (plain rows without a `Conversation`:
    `dedup_plain.range_fields`)."""
    sink, stats = BufferSink("dedup"), ReadStats()
    params = None if cfg.exact_only else cfg.minhash
    texts: list[tuple[str, str]] = []
    ids: list[str] = []
    origins: list[Any] = []
    lens: list[int] = []
    scores: list[float] = []
    parts: list[BatchSketch] = []
    for rid, origin, (t, length, score) in range_fields(r, read, sink, stats, cfg):
        texts.append(t)
        ids.append(rid)
        origins.append(origin)
        lens.append(length)
        scores.append(score)
        if len(texts) >= SKETCH_BATCH:  # sketch as we go: texts of one batch at a time in memory
            parts.append(sketch_batch(texts, params))
            texts = []
    if texts:
        parts.append(sketch_batch(texts, params))
    return RangeSketch(len(ids), stats.rows, concat_sketches(parts, params is not None, cfg.minhash.num_perm), ids,
                       origins, np.asarray(lens, np.int64), np.asarray(scores, np.float64), sink.lines())


def concat_sketches(parts: list[BatchSketch], sigs: bool, num_perm: int) -> BatchSketch:
    """One `BatchSketch` from several (empty arrays of the right shape when there are none)."""
    if not parts:
        e64 = np.empty(0, np.uint64)
        return BatchSketch(e64, e64, np.empty((0, num_perm), np.uint32) if sigs else None,
                           np.empty((0, num_perm), np.uint32) if sigs else None,
                           np.empty(0, np.int32) if sigs else None, np.empty(0, np.int32) if sigs else None)
    if len(parts) == 1:
        return parts[0]

    def cat(name: str) -> np.ndarray | None:
        vals = [getattr(p, name) for p in parts]
        return None if vals[0] is None else np.concatenate(vals)

    return BatchSketch(*(cat(n) for n in ("key_prompt", "key_answer", "sig_prompt", "sig_answer", "n_prompt",
                                          "n_answer")))


# ----------------------------------------------------------------------------------- pass 2
def drops_payload(pl: Any, ids: list[str], origins: list, base: int, n: int, r: Range, read: ReadSpec,
                  rejects_mode: str = "full", skip: list[int] | None = None) -> bytes:
    """What range `r` (records base..base+n-1 of the plan) is told on pass 2: its record count, for
    each record to drop (index in the range, id, reason, message, extra reject fields), and with
    `--rejects-mode ref` on a plain UTF-8 JSONL range, what its duplicates' references need. `skip`:
    the lines of the rows pass 1 rejected, for a pass 2 that reads without validating."""
    from curator.dedup import drop_reason

    dropped = np.flatnonzero(pl.status[base:base + n] != 0)
    drops = []
    for i in dropped.tolist():
        reason, message, extra = drop_reason(pl, base + i, ids, origins)
        if rejects_mode == "ref" and reason != "conflict":
            k = int(pl.kept_of[base + i])
            o = origins[k]
            extra = {**extra, "duplicate_of_origin": {"source": o[0] if o else None, "line": o[1] if o else None}}
        drops.append([i, ids[base + i], reason, message, extra])
    ref = None
    if rejects_mode == "ref" and r.kind == "jsonl" and _is_utf8(read.encoding) and len(dropped):
        ref = {"range": r.to_dict(), "format": read.formats.get(r.path)}
    return orjson.dumps({"n": n, "drops": drops, "ref": ref, "skip": skip or []})
