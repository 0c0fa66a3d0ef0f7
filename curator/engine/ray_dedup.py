"""`curate dedup --engine ray`: dedup across the whole dataset, not per worker.

Per-worker "seen" sets miss every duplicate whose copies land on different workers (data-juicer
issue 971). Here the workers only compute; every decision is global:

1. **Sketch** (Ray, `SketchTask` over the input ranges): parse + validate the range, then
   `curator.dedup.record_fields` and `sketch_batch` — the local pass 1's functions — give exact
   keys, MinHash signatures, shingle counts, ids, origins, lengths and scores. One Arrow row per
   range (numpy arrays as bytes). The driver concatenates them in range order, which is the local
   engine's record order (input order, bad rows excluded), so global indices are identical.
2. **LSH shuffle** (Ray, `BandRows` -> `groupby(part).map_groups(star_task)`): workers cut the
   signatures into band keys (`curator.minhash.band_keys`), emit one row per (record, side, band)
   = (part, band, key, index), Ray hash-partitions the rows so that every bucket lands whole in one
   partition, and each partition numbers its buckets of two or more members and sends back their
   (bucket, member) rows, and the conflict star pairs (`curator.dedup.star_pairs`). The driver never
   holds band keys, only bucket memberships, from which `curator.dedup_graph.groups_to_buckets`
   builds the same set of buckets the local engine builds from the band keys.
3. **Decide** (driver): `curator.dedup.plan(sketches, cfg, candidates)` verifies pairs inside the
   buckets by estimated Jaccard and takes connected components — the local code, fed the
   shuffle's buckets. The plan depends only on the set of buckets, not on their order.
4. **Write** (Ray, `RangeTask` + `KeepStage` over the same ranges): each range gets the list of its
   records to drop, with the reject reason and message worded on the driver (`drop_reason`, shared
   with the local command); workers write the kept records' rows and the drops' reject lines.

Output (records, rejects, `--report`, `--conflicts`, counts) equals `--engine local`'s for the same
input and parameters; `tests/test_engine_ray.py` checks it on a 200,000-record set whose duplicates
straddle ranges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from curator.dedup import EMPTY, BatchSketch, Candidates, DedupConfig, Sketches, _unique_pairs, lsh_sides, star_pairs
from curator.dedup_graph import Buckets, groups_to_buckets
from curator.engine.ranges import Range
from curator.engine.ray_run import all_ranges, collect, connect, detect_formats, results
from curator.engine.dedup_tasks import KeepStage, drops_payload, sketch_range
from curator.engine.tasks import RangeTask, ReadSpec, WriteSpec
from curator.errors import UsageError

@dataclass
class SketchTask:
    """Pass 1 over one range (`dedup_tasks.sketch_range`, as the local pool runs it), packed as one
    Arrow row: numpy arrays as bytes, ids and origins as JSON, and its bad rows' reject lines."""

    read: ReadSpec
    cfg: DedupConfig

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        cols: dict[str, list] = {k: [] for k in ("range_no", "n", "rows", "ids", "origins", "length", "score",
                                                 "kp", "ka", "sig_p", "sig_a", "n_p", "n_a", "rejects")}
        for no, item in zip(_col(batch, "range_no"), _col(batch, "range")):
            rs = sketch_range(Range(**orjson.loads(item)), self.read, self.cfg)
            sk = rs.sketch
            cols["range_no"].append(int(no))
            cols["n"].append(rs.n)
            cols["rows"].append(rs.rows)
            cols["ids"].append(orjson.dumps(rs.ids))
            cols["origins"].append(orjson.dumps(rs.origins))
            cols["length"].append(rs.lengths.tobytes())
            cols["score"].append(rs.scores.tobytes())
            for name, arr in (("kp", sk.key_prompt), ("ka", sk.key_answer), ("sig_p", sk.sig_prompt),
                              ("sig_a", sk.sig_answer), ("n_p", sk.n_prompt), ("n_a", sk.n_answer)):
                cols[name].append(b"" if arr is None else np.ascontiguousarray(arr).tobytes())
            cols["rejects"].append(b"\n".join(rs.rejects))
        return pa.table({k: pa.array(v, pa.int64() if k in ("range_no", "n", "rows") else pa.large_binary())
                         for k, v in cols.items()})


@dataclass
class BandRows:
    """Shuffle input: one row per (record, side, band) with a non-empty text on that side.

    `band` numbers prompt bands 0..bands-1 and answer bands bands..2*bands-1 (buckets never mix
    sides or bands, as in `bucket_pairs`); `part` = hash partition of (band, key); `near` marks rows
    that give near-duplicate candidates for `--on`, `both` records with a prompt AND an answer (the
    only ones conflict detection pairs)."""

    offsets: dict[int, int]  # range number -> global index of its first record
    bands: int
    rows: int
    on: str
    parts: int

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        from curator.minhash import band_keys

        use_p, use_a = lsh_sides(self.on)
        out: dict[str, list[np.ndarray]] = {k: [] for k in ("part", "band", "key", "idx", "near", "both")}
        for no, n, sp, sa in zip(_col(batch, "range_no"), _col(batch, "n"), _col(batch, "sig_p"), _col(batch, "sig_a")):
            if not n:
                continue
            sig_p = np.frombuffer(sp, np.uint32).reshape(n, -1)
            sig_a = np.frombuffer(sa, np.uint32).reshape(n, -1)
            idx = np.arange(n, dtype=np.int64) + self.offsets[int(no)]
            ne_p, ne_a = sig_p[:, 0] != EMPTY, sig_a[:, 0] != EMPTY
            both = ne_p & ne_a
            sides = [(0, sig_p, ne_p, use_p)]  # prompt bands always: conflicts are found on them
            if use_a:
                sides.append((1, sig_a, ne_a, True))
            for side, sig, valid, near in sides:
                keys = band_keys(sig[valid], self.bands, self.rows)  # [m, bands]
                m = len(keys)
                band = np.repeat(np.arange(self.bands, dtype=np.int16)[None, :] + side * self.bands, m, 0)
                out["key"].append(keys.ravel())
                out["band"].append(band.ravel())
                out["idx"].append(np.repeat(idx[valid], self.bands))
                out["near"].append(np.full(m * self.bands, near))
                out["both"].append(np.repeat(both[valid], self.bands))
        cols = {k: (np.concatenate(v) if v else np.empty(0, {"band": np.int16, "key": np.uint64, "idx": np.int64,
                                                               "near": bool, "both": bool}.get(k, np.int32)))
                for k, v in out.items() if k != "part"}
        cols["part"] = ((cols["key"] >> np.uint64(8)) + cols["band"].astype(np.uint64)) % np.uint64(self.parts)
        cols["part"] = cols["part"].astype(np.int32)
        return pa.table(cols)


def star_task(g: dict[str, np.ndarray], bands: int) -> dict[str, np.ndarray]:
    """One shuffle partition (whole buckets): near-duplicate bucket memberships (kind 0: a = bucket
    number, unique across partitions; b = member) and conflict star pairs (kind 1, prompt bands
    among records with both sides)."""
    band, key, idx = g["band"], g["key"], g["idx"]
    near = g["near"].astype(bool)
    conf = (band < bands) & g["both"].astype(bool)
    a1, b1 = _bucket_rows(band[near], key[near], idx[near], int(g["part"][0]) if len(g["part"]) else 0)
    a2, b2 = star_pairs(band[conf], key[conf], idx[conf])
    return {"a": np.concatenate([a1, a2]), "b": np.concatenate([b1, b2]),
            "kind": np.concatenate([np.zeros(len(a1), np.int8), np.ones(len(a2), np.int8)])}


def _bucket_rows(band: np.ndarray, key: np.ndarray, idx: np.ndarray, part: int) -> tuple[np.ndarray, np.ndarray]:
    """(bucket number, member) rows of the buckets with two or more members among rows (band, key,
    index); bucket numbers start at part << 40, so partitions never share one."""
    if len(idx) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((idx, key, band))
    sb, sk, si = band[order], key[order], np.asarray(idx, np.int64)[order]
    new = np.concatenate(([True], (sb[1:] != sb[:-1]) | (sk[1:] != sk[:-1])))
    multi = ~new | np.concatenate((~new[1:], [False]))
    gid = np.cumsum(new).astype(np.int64) + (np.int64(part) << np.int64(40))
    return gid[multi], si[multi]


def run_dedup_ray(run: Any, inputs: list[Path], cfg: DedupConfig, *, fmt: str | None, ropts: Any,
                  encoding: str | None, address: str | None, out_format: str,
                  rejects_mode: str = "full") -> tuple[Any, list[str], list, dict]:
    """Pass 1, shuffle, plan and pass 2 on Ray; writes through `run`. Returns (plan, ids, origins,
    timings) for the side reports, which the command writes with the local engine's code."""
    import ray.data

    from curator.dedup import plan
    from curator.minhash import optimal_bands

    ray = connect(address)
    t0 = time.perf_counter()
    formats = detect_formats(inputs, fmt, ropts, encoding, run.read_stats)
    spec = ReadSpec(formats=formats, opts=ropts, encoding=encoding)
    workers = int(ray.cluster_resources().get("CPU", 1))
    ranges = all_ranges(inputs, workers)
    items = [{"range_no": i, "range": orjson.dumps(r.to_dict())} for i, r in enumerate(ranges)]
    sketched = ray.data.from_items(items, override_num_blocks=max(1, len(items))).map_batches(
        SketchTask(spec, cfg), batch_size=1).materialize()

    # ---- pass 1 results, in range order: the local engine's record order
    sk = Sketches()
    per_range: dict[int, int] = {}
    rejects: dict[int, bytes] = {}
    cols = ("range_no", "n", "rows", "ids", "origins", "length", "score", "kp", "ka", "sig_p", "sig_a", "n_p", "n_a",
            "rejects")
    got: dict[int, dict] = {}
    for b in sketched.iter_batches(batch_size=None, batch_format="pyarrow"):
        for row in zip(*(b.column(c).to_pylist() for c in cols)):
            d = dict(zip(cols, row))
            got[d["range_no"]] = d
    offsets: dict[int, int] = {}
    perm = cfg.minhash.num_perm
    for no in sorted(got):
        d = got.pop(no)
        n = d["n"]
        offsets[no] = len(sk)
        run.read_stats.rows += d["rows"]
        rejects[no] = d["rejects"]
        sigs = not cfg.exact_only

        def arr(name: str, dtype: Any, shape: tuple = (-1,)) -> np.ndarray:
            return np.frombuffer(d[name], dtype).reshape(shape)

        bs = BatchSketch(arr("kp", np.uint64), arr("ka", np.uint64),
                         arr("sig_p", np.uint32, (n, perm)) if sigs else None,
                         arr("sig_a", np.uint32, (n, perm)) if sigs else None,
                         arr("n_p", np.int32) if sigs else None, arr("n_a", np.int32) if sigs else None)
        origins = [tuple(o) if o else None for o in orjson.loads(d["origins"])]
        sk.add(bs, orjson.loads(d["ids"]), origins, arr("length", np.int64), arr("score", np.float64))
        per_range[no] = n
    for no in sorted(rejects):  # bad rows: in input order, as the local pass 1 rejects them
        for line in rejects[no].splitlines():
            run.rejects.add(**orjson.loads(line))
    t1 = time.perf_counter()

    # ---- LSH candidates by a shuffle on (band, key)
    candidates = None
    if not cfg.exact_only and len(sk):
        bands, rows = optimal_bands(cfg.threshold, cfg.minhash.num_perm)
        band_rows = len(sk) * bands * (2 if lsh_sides(cfg.on)[1] else 1)
        parts = max(2 * workers, band_rows // 1_000_000)  # ~1M rows (16 MB of key+index) a partition
        pairs = sketched.map_batches(BandRows(offsets, bands, rows, cfg.on, parts), batch_size=1) \
            .groupby("part").map_groups(star_task, batch_format="numpy", fn_kwargs={"bands": bands})
        na, nb, ca, cb = [], [], [], []
        for b in pairs.iter_batches(batch_size=None, batch_format="numpy"):
            kind = b["kind"]
            na.append(b["a"][kind == 0])
            nb.append(b["b"][kind == 0])
            ca.append(b["a"][kind == 1])
            cb.append(b["b"][kind == 1])
        near = groups_to_buckets(np.concatenate(na), np.concatenate(nb)) if na else Buckets.empty()
        candidates = Candidates(near, _unique_pairs(ca, cb))
    t2 = time.perf_counter()
    del sketched
    pl = plan(sk, cfg, candidates)
    ids, origins = sk.ids, sk.origins
    t3 = time.perf_counter()

    # ---- pass 2: the same ranges, each told which of its records to drop and why
    items = []
    for no, r in enumerate(ranges):
        payload = drops_payload(pl, ids, origins, offsets[no], per_range[no], r, spec, rejects_mode)
        items.append({"range": orjson.dumps(r.to_dict()), "payload": payload})
    quiet = ReadSpec(formats=formats, opts=ropts, encoding=encoding, report_bad_rows=False)
    ds = ray.data.from_items(items, override_num_blocks=max(1, len(items))).map_batches(
        RangeTask("dedup", quiet, KeepStage(), WriteSpec(out_format)), batch_size=1)
    seen = collect(run, results(ds), count_rows=False)
    if seen["records"] != len(ids):
        raise UsageError(f"an input changed while dedup was reading it ({seen['records']} records on the second "
                         f"pass, {len(ids)} on the first); run again")
    t4 = time.perf_counter()
    timings = {"workers": workers, "ranges": len(ranges), "sketch_s": round(t1 - t0, 2),
               "lsh_shuffle_s": round(t2 - t1, 2), "plan_s": round(t3 - t2, 2), "write_s": round(t4 - t3, 2)}
    return pl, ids, origins, timings


def _col(batch: Any, name: str) -> list[Any]:
    col = batch[name]
    return col.to_pylist() if hasattr(col, "to_pylist") else list(col)


def run_whole(run: Any, stage: Any, address: str | None) -> None:
    """`DedupStage` on Ray (`curator.engine.run_whole_stage`): the same `finish` as locally."""
    from curator.dedup_stage import finish

    pl, ids, origins, timings = run_dedup_ray(run, stage.inputs, stage.cfg, fmt=stage.from_, ropts=stage.ropts,
                                              encoding=stage.encoding, address=address, out_format=stage.out_format,
                                              rejects_mode=stage.cfg.rejects_mode)
    finish(run, pl, stage.cfg, ids, origins, report=stage.report, conflicts=stage.conflicts,
           workers=timings["workers"])
    run.extra["dedup"]["ray"] = timings
