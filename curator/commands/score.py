"""`curate score IN... --rubric R -o OUT`: score answers with rule, judge, reward-model or recipe
rubrics; the values land in `meta.scores` for `curate filter` to threshold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.commands._options import (CACHE, CONCURRENCY, JUDGE_BASE_URL, JUDGE_KEY_ENV, JUDGE_MODEL, JUDGE_RETRIES,
                                        RUBRIC)
from curator.errors import UsageError
from curator.runner import CommandRun, usage_guard

def register(app: typer.Typer) -> None:
    @app.command()
    def score(
        inputs: list[Path] = typer.Argument(..., help="Answered records (any supported format)."),
        out: Path = o.OUT,
        rubric: list[str] = RUBRIC,
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        judge_model: Optional[str] = JUDGE_MODEL,
        judge_base_url: Optional[str] = JUDGE_BASE_URL,
        judge_api_key_env: str = JUDGE_KEY_ENV,
        judge_retries: int = JUDGE_RETRIES,
        cache: Optional[Path] = CACHE,
        no_cache: bool = o.NO_CACHE,
        concurrency: int = CONCURRENCY,
        batch_size: int = typer.Option(64, "--batch-size", help="Records scored together (reward-model batch)."),
        allow: Optional[list[str]] = o.ALLOW,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
    ) -> None:
        """Score answers with rubrics; writes meta.scores (values) and meta.score_details (verdicts)."""
        from curator.score import ScoreStage, check_rubrics_for_engine, load_rubrics

        with usage_guard():
            o.check_engine(engine)
            o.check_inputs(inputs)
            ropts = o.read_options(mapping)
            if batch_size < 1:
                raise UsageError("--batch-size must be >= 1")
            check_rubrics_for_engine(engine, rubric)
            from curator.cache import default_cache_path

            cache_path = None if no_cache else cache or default_cache_path(out)
            rubrics, client = load_rubrics(rubric, judge_model=judge_model, judge_base_url=judge_base_url,
                                           judge_key_env=judge_api_key_env, judge_retries=judge_retries,
                                           cache=cache_path, concurrency=concurrency, rm_batch_size=min(batch_size, 32))
            # --map as the function got it: None when not given, where Click binds []
            run = CommandRun("score", out=out, params=dict(mapping=mapping), inputs=inputs,
                             max_error_rate=max_error_rate,
                             side_outputs=[("--cache", cache_path)])
        from curator.engine import run_whole_stage

        counts: Counter = Counter()
        with run:
            counts = run_whole_stage(engine, run, ScoreStage(inputs, rubric, rubrics, client, batch_size, from_, ropts,
                                                             encoding, allow or ()), address=ray_address)
        for r in rubrics:
            r.close()
        _print_missing_verdicts(counts)
        raise typer.Exit(run.exit_code)


def _print_missing_verdicts(counts: Counter) -> None:
    """Say on the terminal, not only in the manifest, how many verdicts are missing and why."""
    from curator.runner import err_console

    for key, n in sorted(counts.items()):
        name, _, status = key.rpartition(":")
        if n and status not in ("ok", "passed", "gated"):
            err_console.print(f"  [bold yellow]{name}: {n} verdict(s) {status}[/] — kept without a score for this "
                              f"rubric (see meta.score_details; judge retries: --judge-retries)")
