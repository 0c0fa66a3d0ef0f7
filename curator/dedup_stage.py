"""`curate dedup` as a stage: the two passes, the side reports and the manifest entry.

Pass 1 keeps only keys and MinHash signatures per record (`curator.dedup`), the plan decides
what is kept, pass 2 re-reads the inputs and writes the kept records, sending every dropped one to
the rejects with `duplicate_of` = the id kept in its place and `matched` = the record it actually
matched. The engines' drivers (`curator.engine.ray_dedup`, `local_dedup`) use the same
`curator.dedup.drop_reason` and `finish`, so every path words rejects and reports alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar


@dataclass
class DedupStage:
    """MinHash/exact dedup of `inputs` as a whole-dataset stage (`curator.engine.run_whole_stage`)."""

    ray_driver: ClassVar[str] = "curator.engine.ray_dedup"

    inputs: list[Path]
    cfg: Any  # DedupConfig
    from_: str | None
    ropts: Any
    encoding: str | None
    workers: int  # 0 = one per core
    report: Path | None
    conflicts: Path | None
    out_format: str

    def run_local(self, run) -> None:
        run_dedup(run, self.inputs, self.cfg, from_=self.from_, ropts=self.ropts, encoding=self.encoding,
                  workers=self.workers, report=self.report, conflicts=self.conflicts, out_format=self.out_format,
                  rejects_mode=self.cfg.rejects_mode)


def run_semantic_dedup(run, inputs, cfg, threshold, emb, *, from_, ropts, encoding) -> None:
    """`--semantic`: embedding neighbours instead of MinHash (`curator.semantic_dedup`)."""
    from curator.semantic_dedup import run_semantic

    run_semantic(run, lambda: run.read_all(inputs, from_, opts=ropts, encoding=encoding),
                 lambda: run.reread_all(inputs, from_, opts=ropts, encoding=encoding), on=cfg.on, keep=cfg.keep,
                 score_key=cfg.score_key, threshold=threshold, embedder=emb, seed=cfg.minhash.seed)


def run_dedup(run, inputs, cfg, *, from_, ropts, encoding, workers, report, conflicts, out_format="messages",
              rejects_mode="full") -> None:
    """The body: pass 1 (sketch), plan, pass 2 (write kept, reject dropped), side reports.

    Regular files go by ranges on a pool of forked workers (`curator.engine.local_dedup`); a FIFO
    or standard input is streamed twice in this process (`--rejects-mode ref` then keeps full
    records: a stream has no offsets to point back to). `workers`: 0 = one per core."""
    from curator.engine.local_dedup import can_run, run_dedup_local

    shown = workers or (os.cpu_count() or 1)  # the manifest's figure, as before the pool
    if can_run(inputs):
        pl, ids, origins = run_dedup_local(run, inputs, cfg, fmt=from_, ropts=ropts, encoding=encoding,
                                           workers=workers, out_format=out_format, rejects_mode=rejects_mode)
        finish(run, pl, cfg, ids, origins, report=report, conflicts=conflicts, workers=shown)
        return
    _run_streamed(run, inputs, cfg, from_=from_, ropts=ropts, encoding=encoding, workers=shown, report=report,
                  conflicts=conflicts)


def _run_streamed(run, inputs, cfg, *, from_, ropts, encoding, workers, report, conflicts) -> None:
    """Both passes as streams in this process (signatures on a spawned pool)."""
    from curator.dedup import KEPT, drop_reason, plan, sketch_records
    from curator.errors import UsageError
    from curator.io import read_records
    from curator.rejects import RejectSink

    def pass1():
        for path in inputs:
            yield from run.read(path, from_, opts=ropts, encoding=encoding)

    sk = sketch_records(pass1(), cfg, workers=workers)
    pl = plan(sk, cfg)
    ids, origins = sk.ids, sk.origins

    # pass 2: the same valid records in the same order; bad rows were already rejected in pass 1
    quiet = RejectSink(None)
    i = 0
    for path in inputs:
        for conv in read_records(path, from_, opts=ropts, encoding=encoding, rejects=quiet):
            if i >= len(ids) or conv.id != ids[i]:
                raise UsageError(f"{path}: changed while dedup was reading it (record {i + 1} differs); run again")
            if int(pl.status[i]) == KEPT:
                conv.add_lineage("dedup")
                run.write(conv)
            else:
                reason, message, extra = drop_reason(pl, i, ids, origins)
                run.rejects.reject(conv, reason, message, **extra)
            i += 1
    if i != len(ids):
        raise UsageError(f"{inputs[-1]}: changed while dedup was reading it (fewer records on the second pass)")
    finish(run, pl, cfg, ids, origins, report=report, conflicts=conflicts, workers=workers)


def finish(run, pl, cfg, ids: list[str], origins: list, *, report, conflicts, workers: int) -> None:
    """The side reports (--report clusters, --conflicts) and the manifest's dedup section."""
    import orjson

    from curator.atomic import atomic_open
    from curator.dedup import REASONS

    def where(j: int) -> dict:
        o_ = origins[j]
        return {"id": ids[j], "source": o_[0] if o_ else None, "line": o_[1] if o_ else None}

    if report:
        with atomic_open(report, "wb") as fh:
            for n, members in enumerate(pl.clusters):
                kept = members[0]
                row = {"cluster": n, "size": len(members), "kept": where(kept),
                       "dropped": [{**where(j), "reason": REASONS.get(int(pl.status[j]), "kept"),
                                    "matched": ids[int(pl.matched[j])] if pl.matched is not None else ids[kept],
                                    "similarity": round(float(pl.similarity[j]), 4)} for j in members[1:]]}
                fh.write(orjson.dumps(row) + b"\n")
    if conflicts:
        with atomic_open(conflicts, "wb") as fh:
            for n, g in enumerate(pl.conflicts):
                row = {"group": n, "size": len(g["members"]), "prompt_similarity": g["prompt_similarity"],
                       "answer_similarity": g["answer_similarity"], "members": [where(j) for j in g["members"]],
                       "dropped": cfg.drop_conflicts}
                fh.write(orjson.dumps(row) + b"\n")
    counts = pl.counts()
    run.extra["dedup"] = {"clusters": len(pl.clusters), "conflict_groups": len(pl.conflicts),
                          "conflict_records": sum(len(g["members"]) for g in pl.conflicts),
                          "bands": pl.bands, "rows": pl.rows, "large_buckets": pl.large_buckets, "workers": workers,
                          "dropped": {k: v for k, v in counts.items() if k != "kept"}}
