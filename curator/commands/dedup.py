"""`curate dedup IN... -o OUT`: exact and near-duplicate removal, conflict groups for review.

The command only checks its options and runs the stage (`curator.dedup_stage`) on the chosen
engine; the passes, the reject wording and the side reports live there.
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
        workers: int = typer.Option(0, "--workers", help="Processes for both passes (0 = one per CPU core "
                                    "when the input is 8 MB or more)."),
        rejects_mode: str = typer.Option("full", "--rejects-mode", help="full: each dropped duplicate's reject "
                                         "holds the record; ref: its file, byte offset, line and hash instead "
                                         "(small; read back by resolving them, see docs/dedup.md)."),
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
        from curator.dedup import DedupConfig
        from curator.minhash import MinHashParams

        with usage_guard():
            o.check_engine(engine)
            o.check_inputs(inputs)
            ropts = o.read_options(mapping)
            cfg = DedupConfig(on=on, exact_only=exact_only, threshold=threshold, keep=keep, score_key=score_key,
                              conflict_threshold=conflict_threshold, drop_conflicts=drop_conflicts,
                              rejects_mode=rejects_mode,
                              minhash=MinHashParams(num_perm=num_perm, ngram=ngram, seed=seed, ngram_cjk=ngram_cjk))
            emb = _semantic_setup(semantic, engine, embedder, embed_base_url, embed_api_key_env, ray_address)
            # --map as the function got it: None when not given, where Click binds []
            run = CommandRun("dedup", out=out, params=dict(mapping=mapping), config=cfg,
                             inputs=inputs, max_error_rate=max_error_rate,
                             out_format=to, side_outputs=[("--report", report), ("--conflicts", conflicts)])
        from curator.dedup_stage import DedupStage, run_semantic_dedup
        from curator.engine import run_whole_stage

        with run:
            if emb is not None:  # --semantic: the embedder is already engine-mapped (`for_engine`)
                run_semantic_dedup(run, inputs, cfg, semantic, emb, from_=from_, ropts=ropts, encoding=encoding)
            else:
                stage = DedupStage(inputs, cfg, from_, ropts, encoding, workers, report, conflicts, to)
                run_whole_stage(engine, run, stage, address=ray_address)
        raise typer.Exit(run.exit_code)


def _semantic_setup(semantic, engine, embedder, base_url, key_env, ray_address=None):
    """The embedder for --semantic (None without it); usage errors for what cannot work."""
    if semantic is None:
        return None
    from curator.embedders import make_embedder
    from curator.errors import UsageError

    if not 0.0 < semantic <= 1.0:
        raise UsageError(f"--semantic {semantic}: a cosine similarity in (0, 1], e.g. 0.9")
    from curator.embed_ray import for_engine

    # --engine ray maps the (lexical) embedding over Ray; the plan and pass 2 run here, as locally
    return for_engine(make_embedder(embedder, base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
                                    api_key_env=key_env), engine, ray_address)
