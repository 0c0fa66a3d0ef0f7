"""`curate dedup IN... -o OUT`: exact and near-duplicate removal, conflict groups for review.

Two passes over the input: pass 1 keeps only keys and MinHash signatures per record (see
`curator.dedup`), pass 2 re-reads the file and writes the kept records, sending every dropped
one to the rejects with `duplicate_of` = the id of the record kept in its place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def dedup(
        inputs: list[Path] = typer.Argument(..., help="Input files (deduplicated together, in the order given)."),
        out: Path = o.OUT,
        on: str = typer.Option("conversation", "--on", help="What must match: prompt (non-assistant turns), "
                               "answer (assistant turns), or conversation (prompt AND answer)."),
        exact_only: bool = typer.Option(False, "--exact-only", help="Only exact duplicates (normalised key); "
                                        "skip MinHash near-duplicates and conflicts."),
        threshold: float = typer.Option(0.7, "--threshold", help="Estimated Jaccard similarity of character "
                                        "5-grams at or above which two texts are near-duplicates."),
        keep: str = typer.Option("first", "--keep", help="Which record a cluster keeps: first, longest, best-score."),
        score_key: Optional[str] = typer.Option(None, "--score-key", help="meta.scores key for --keep best-score "
                                                "(default: mean of the numeric scores)."),
        num_perm: int = typer.Option(64, "--num-perm", help="MinHash permutations (more = finer estimates, slower)."),
        ngram: int = typer.Option(5, "--ngram", help="Character n-gram size of the shingles."),
        ngram_cjk: int = typer.Option(2, "--ngram-cjk", help="N-gram size for text that is mostly Chinese/"
                                      "Japanese/Korean characters (0 = --ngram for all; measured in docs/dedup.md)."),
        report: Optional[Path] = typer.Option(None, "--report", help="Write clusters (kept + dropped ids) to this JSONL."),
        conflicts: Optional[Path] = typer.Option(None, "--conflicts", help="Write conflict groups (same prompt, "
                                                 "different answers) to this JSONL."),
        conflict_threshold: float = typer.Option(0.5, "--conflict-threshold", help="Answers less similar than "
                                                 "this (estimated Jaccard) under near-identical prompts conflict."),
        drop_conflicts: bool = typer.Option(False, "--drop-conflicts", help="Drop conflicting records (reason "
                                            "conflict) instead of only reporting them."),
        workers: int = typer.Option(0, "--workers", help="Processes for signatures (0 = one per CPU core)."),
        seed: int = typer.Option(1, "--seed", help="Seed of the MinHash permutations."),
        semantic: Optional[float] = typer.Option(None, "--semantic", help="Instead of MinHash: drop records whose "
                                                 "embedding cosine similarity to a kept one is >= this (e.g. 0.9)."),
        embedder: str = typer.Option("lexical", "--embedder", help="With --semantic: lexical (offline default), "
                                     "wordllama, http:MODEL (at --embed-base-url), or a local model folder."),
        embed_base_url: Optional[str] = typer.Option(None, "--embed-base-url", help="OpenAI-compatible base URL for "
                                                     "--embedder http:MODEL (default: $OPENAI_BASE_URL)."),
        embed_api_key_env: str = typer.Option("OPENAI_API_KEY", "--embed-api-key-env", help="Environment variable "
                                              "holding the embedding server's key."),
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        to: str = o.TO,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
    ) -> None:
        """Remove exact and near-duplicates (MinHash LSH on character shingles, Chinese-safe); report conflicts."""
        from curator.dedup import KEEP_CHOICES, ON_CHOICES, DedupConfig
        from curator.errors import UsageError
        from curator.minhash import MinHashParams

        params = dict(inputs=[str(p) for p in inputs], out=str(out), on=on, exact_only=exact_only,
                      threshold=threshold, keep=keep, score_key=score_key, num_perm=num_perm, ngram=ngram,
                      ngram_cjk=ngram_cjk,
                      report=str(report) if report else None, conflicts=str(conflicts) if conflicts else None,
                      conflict_threshold=conflict_threshold, drop_conflicts=drop_conflicts, seed=seed,
                      from_=from_, mapping=mapping, encoding=encoding, to=to, engine=engine)
        if semantic is not None:
            params.update(semantic=semantic, embedder=embedder, embed_base_url=embed_base_url)
        with usage_guard():
            o.check_engine(engine)
            o.check_inputs(inputs)
            if on not in ON_CHOICES:
                raise UsageError(f"--on {on!r}: choose prompt, answer or conversation")
            if keep not in KEEP_CHOICES:
                raise UsageError(f"--keep {keep!r}: choose first, longest or best-score")
            if not 0.0 < threshold <= 1.0:
                raise UsageError(f"--threshold {threshold}: must be in (0, 1], e.g. 0.8")
            if not 0.0 <= conflict_threshold <= 1.0:
                raise UsageError(f"--conflict-threshold {conflict_threshold}: must be in [0, 1]")
            if num_perm < 8 or ngram < 1 or ngram_cjk < 0:
                raise UsageError("--num-perm must be >= 8, --ngram >= 1 and --ngram-cjk >= 0")
            ropts = o.read_options(mapping)
            cfg = DedupConfig(on=on, exact_only=exact_only, threshold=threshold, keep=keep, score_key=score_key,
                              conflict_threshold=conflict_threshold, drop_conflicts=drop_conflicts,
                              minhash=MinHashParams(num_perm=num_perm, ngram=ngram, seed=seed,
                                                    ngram_cjk=ngram_cjk))
            emb = _semantic_setup(semantic, engine, embedder, embed_base_url, embed_api_key_env)
            run = CommandRun("dedup", out=out, params=params, inputs=inputs, max_error_rate=max_error_rate,
                             out_format=to, side_outputs=[("--report", report), ("--conflicts", conflicts)])
        with run:
            if emb is not None:
                _run_semantic(run, inputs, cfg, semantic, emb, from_=from_, ropts=ropts, encoding=encoding)
                inputs = []
            if engine == "ray":
                from curator.engine.ray_dedup import run_dedup_ray

                pl, ids, origins, timings = run_dedup_ray(run, inputs, cfg, fmt=from_, ropts=ropts, encoding=encoding,
                                                          address=ray_address, out_format=to)
                finish(run, pl, cfg, ids, origins, report=report, conflicts=conflicts, workers=timings["workers"])
                run.extra["dedup"]["ray"] = timings
                inputs = []
            if inputs:
                run_dedup(run, inputs, cfg, from_=from_, ropts=ropts, encoding=encoding,
                          workers=workers or (os.cpu_count() or 1), report=report, conflicts=conflicts)
        raise typer.Exit(run.exit_code)


def _semantic_setup(semantic, engine, embedder, base_url, key_env):
    """The embedder for --semantic (None without it); usage errors for what cannot work."""
    if semantic is None:
        return None
    import os

    from curator.embed import make_embedder
    from curator.errors import UsageError

    if not 0.0 < semantic <= 1.0:
        raise UsageError(f"--semantic {semantic}: a cosine similarity in (0, 1], e.g. 0.9")
    if engine != "local":
        raise UsageError("--semantic runs with --engine local")
    return make_embedder(embedder, base_url=base_url or os.environ.get("OPENAI_BASE_URL"), api_key_env=key_env)


def _run_semantic(run, inputs, cfg, threshold, emb, *, from_, ropts, encoding) -> None:
    from curator.io import read_records
    from curator.rejects import RejectSink
    from curator.semantic_dedup import run_semantic

    def read():
        for path in inputs:
            yield from run.read(path, from_, opts=ropts, encoding=encoding)

    def reread():
        quiet = RejectSink(None)
        for path in inputs:
            yield from read_records(path, from_, opts=ropts, encoding=encoding, rejects=quiet)

    run_semantic(run, read, reread, on=cfg.on, keep=cfg.keep, score_key=cfg.score_key, threshold=threshold,
                 embedder=emb, seed=cfg.minhash.seed)


def run_dedup(run, inputs, cfg, *, from_, ropts, encoding, workers, report, conflicts) -> None:
    """The body: pass 1 (sketch), plan, pass 2 (write kept, reject dropped), side reports."""
    from curator.dedup import KEPT, plan, sketch_records
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


def drop_reason(pl, i: int, ids: list[str], origins: list) -> tuple[str, str, dict]:
    """(reason code, message, extra reject fields) for dropped record `i` — one wording for both engines."""
    from curator.dedup import CONFLICT, REASONS, describe

    st = int(pl.status[i])
    if st == CONFLICT:
        return "conflict", ("near-identical prompt with a disagreeing answer in another record; review the group "
                            "in --conflicts and keep the right answer"), {}
    k = int(pl.kept_of[i])
    if REASONS[st] == "duplicate":
        return "duplicate", f"exact duplicate of {describe(origins[k], ids[k])}, which is kept", {
            "duplicate_of": ids[k], "similarity": 1.0}
    # name the match that actually held (its similarity passed the threshold), which is not always
    # the kept record: A~B and B~C drop C as a near-duplicate of B while A is kept
    m = int(pl.matched[i]) if pl.matched is not None else k
    sim = float(pl.similarity[i])
    where = (f"{describe(origins[m], ids[m])}, which is kept" if m == k else
             f"{describe(origins[m], ids[m])}, itself dropped for {describe(origins[k], ids[k])}, which is kept")
    return "near_duplicate", f"near-duplicate (similarity {sim:.2f}) of {where}", {
        "duplicate_of": ids[k], "matched": ids[m], "similarity": round(sim, 4)}


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
