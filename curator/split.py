"""Train / eval / test assignment: by ratio or count, stratified, deterministic, leak-free.

`assign(strata, sizes, seed)` is pure and needs only one small integer per record (its stratum),
so a split of millions of records keeps no texts. Stratification without per-stratum rounding
drift: records are shuffled by the seed, each gets its fractional rank inside its stratum
((position + 0.5) / stratum size), and the held-out splits take the lowest ranks overall. Every
stratum is then spread evenly over the cut, and the global counts are exact.

Leakage: an eval record that near-duplicates a train record measures memory, not skill. The
command reuses dedup's sketches and clusters (`curator.dedup.plan`); a cluster spanning several
splits is moved wholly into train (`--leakage move`) or only listed (`--leakage report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Sequence

import numpy as np

from curator.config_check import Bounds, check_config


@dataclass(frozen=True)
class SplitConfig:
    """Options of `curate split` (validated here for the CLI, recipes and Python alike)."""

    eval_size: Annotated[float, Bounds(0)] = 0.1  # a share (< 1) or a count (>= 1)
    test_size: Annotated[float, Bounds(0)] = 0.0  # 0 = no test split
    stratify: str | None = None
    seed: int = 0
    leakage: Literal["move", "report", "off"] = "move"
    leakage_on: Literal["prompt", "answer", "conversation"] = "prompt"
    threshold: Annotated[float, Bounds(0, 1, lo_open=True, example="0.8")] = 0.7

    def __post_init__(self) -> None:
        check_config(self)


def resolve_sizes(n: int, held_out: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Counts per held-out split: a size < 1 is a ratio of n, >= 1 a count. Train gets the rest."""
    out: dict[str, int] = {}
    for name, size in held_out:
        if size < 0:
            raise ValueError(f"{name} size {size} is negative")
        out[name] = int(round(size * n)) if size < 1 else int(size)
    if sum(out.values()) > n:
        raise ValueError(f"held-out sizes {out} add up to more than the {n} records")
    return out


def assign(strata: np.ndarray, sizes: dict[str, int], seed: int, names: Sequence[str]) -> np.ndarray:
    """Split index per record (0 = train, i = names[i]); `sizes` holds the held-out counts."""
    n = len(strata)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    # position of each record within its stratum, in shuffled order
    s_perm = strata[perm]
    order = np.argsort(s_perm, kind="stable")
    sorted_s = s_perm[order]
    new = np.concatenate(([True], sorted_s[1:] != sorted_s[:-1])) if n else np.empty(0, bool)
    gid = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    group_size = np.diff(np.append(starts, n))
    pos = np.arange(n) - starts[gid] if n else np.empty(0, np.int64)
    rank = np.empty(n, dtype=np.float64)
    rank[perm[order]] = (pos + 0.5) / group_size[gid] if n else pos
    # lowest ranks first; ties broken by the shuffle, so equal ranks are not taken in input order
    tie = np.empty(n, dtype=np.int64)
    tie[perm] = np.arange(n)
    take = np.lexsort((tie, rank))
    out = np.zeros(n, dtype=np.int8)
    at = 0
    for i, name in enumerate(names):
        if i == 0:
            continue
        k = sizes.get(name, 0)
        out[take[at:at + k]] = i
        at += k
    return out


def get_path(d: dict[str, Any], dotted: str) -> Any:
    """`meta.tags` -> d["meta"]["tags"], or None when any step is missing."""
    cur: Any = d
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def stratum_label(value: Any) -> str:
    """A hashable label for a stratify value: lists become 'a|b' (sorted), missing is '<none>'."""
    if value is None:
        return "<none>"
    if isinstance(value, (list, tuple)):
        return "|".join(sorted(str(v) for v in value)) or "<none>"
    return str(value)


def leaking_clusters(clusters: list[list[int]], split: np.ndarray) -> list[list[int]]:
    """Clusters (from dedup) whose members fall in more than one split."""
    return [c for c in clusters if len(set(split[c].tolist())) > 1]


def run_split(run, inputs, paths, sizes_in, *, stratify, seed, leakage, leakage_on, threshold, report, workers,
               from_, ropts, encoding, to) -> None:
    """The whole stage on a `CommandRun`: pass 1 (strata and, unless leakage is off, MinHash sketches),
    the assignment, leaking clusters moved or reported, pass 2 writing train through `run` and
    eval/test beside it (published with train, before the manifest)."""
    import os

    import numpy as np
    import orjson

    from curator.atomic import atomic_open
    from curator.dedup import DedupConfig, Sketches, plan, sketch_records
    from curator.errors import UsageError
    from curator.io import RecordWriter, read_records
    from curator.rejects import RejectSink

    names = list(paths)
    labels: dict[str, int] = {}
    strata: list[int] = []

    def pass1():
        for path in inputs:
            for conv in run.read(path, from_, opts=ropts, encoding=encoding):
                if stratify:
                    lab = stratum_label(get_path(conv.to_dict(), stratify))
                    strata.append(labels.setdefault(lab, len(labels)))
                else:
                    strata.append(0)
                yield conv

    cfg = DedupConfig(on=leakage_on, exact_only=False, threshold=threshold)
    if leakage == "off":
        for _ in pass1():
            pass
        sk = None
    else:
        sk = sketch_records(pass1(), cfg, workers=workers or (os.cpu_count() or 1))
    n = len(strata)
    try:
        sizes = resolve_sizes(n, [(k, sizes_in[k]) for k in names[1:]])
    except ValueError as e:
        raise UsageError(str(e)) from None
    split = assign(np.asarray(strata, dtype=np.int64), sizes, seed, names)
    leaks: list[list[int]] = []
    if sk is not None:
        pl = plan(sk, cfg)
        before = split.copy()
        leaks = leaking_clusters(pl.clusters, split)
        if leakage == "move":
            for c in leaks:
                split[c] = 0
        if report:
            ids = sk.ids
            with atomic_open(report, "wb") as fh:
                for c in leaks:
                    fh.write(orjson.dumps({"members": [{"id": ids[j], "split": names[int(before[j])],
                                                        "source": sk.origins[j][0] if sk.origins[j] else None,
                                                        "line": sk.origins[j][1] if sk.origins[j] else None}
                                                       for j in c], "moved_to_train": leakage == "move"}) + b"\n")

    writers = {name: RecordWriter(paths[name], to, rejects=run.rejects) for name in names[1:]}
    try:
        quiet = RejectSink(None)
        i = 0
        for path in inputs:
            for conv in read_records(path, from_, opts=ropts, encoding=encoding, rejects=quiet):
                if i >= n:
                    raise UsageError(f"{path}: changed while split was reading it; run again")
                s = int(split[i])
                conv.add_lineage("split")
                conv.meta["split"] = names[s]
                if s == 0:
                    run.write(conv)
                elif writers[names[s]].write(conv):
                    run.exclude(f"split:{names[s]}")
                i += 1
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    for w in writers.values():  # eval/test are published with train, before the manifest
        w.close(commit=False)
        run.commit_with_output(w)
    counts = {"train": run.n_out, **{k: w.count for k, w in writers.items()}}
    run.extra["split"] = {"counts": counts, "requested": {"eval": sizes.get("eval"), "test": sizes.get("test")},
                          "outputs": {k: str(v) for k, v in paths.items()}, "strata": len(labels) or 1,
                          "leaking_clusters": len(leaks), "leaking_records": int(sum(len(c) for c in leaks)),
                          "leakage": leakage}
    if not run.quiet:
        from curator.runner import err_console
        err_console.print("split: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                          + (f"; {len(leaks)} leaking clusters ({'moved to train' if leakage == 'move' else 'reported'})"
                             if leaks else ""))
