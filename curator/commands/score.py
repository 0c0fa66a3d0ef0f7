"""`curate score IN... --rubric R -o OUT`: score answers with rule, judge, reward-model or recipe
rubrics; the values land in `meta.scores` for `curate filter` to threshold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.errors import UsageError
from curator.runner import CommandRun, usage_guard

RUBRIC = typer.Option(..., "--rubric", "-r", help="Rubric, repeatable: a rule (no_refusal, rule:json_valid), a shipped "
                      "judge (helpfulness, correctness, instruction_following, chinese_style, format_compliance), a "
                      "rubric or recipe file (.yaml/.md), rm:MODEL_PATH, or module:function.")
JUDGE_MODEL = typer.Option(None, "--judge-model", help="Model name for LLM-judge rubrics.")
JUDGE_BASE_URL = typer.Option(None, "--judge-base-url", help="OpenAI-compatible base URL for the judge "
                              "(default: $OPENAI_BASE_URL).")
JUDGE_KEY_ENV = typer.Option("OPENAI_API_KEY", "--judge-api-key-env", help="Environment variable holding the "
                             "judge's API key (the key itself is never written anywhere).")
JUDGE_RETRIES = typer.Option(2, "--judge-retries", help="Extra attempts when a verdict does not parse.")
CACHE = typer.Option(None, "--cache", help="SQLite cache for judge calls (default: <out>.cache.sqlite).")
CONCURRENCY = typer.Option(16, "--concurrency", help="Judge requests in flight.")


def load_rubrics(refs: list[str], *, judge_model, judge_base_url, judge_key_env, judge_retries, cache, concurrency,
                 rm_batch_size: int = 8):
    """Load every --rubric; wire judge rubrics to one shared chat client (cached, retried)."""
    from rubrics.load import RubricError, judges_in, load_rubric

    try:
        rubrics = [load_rubric(r, judge_retries=judge_retries, rm_batch_size=rm_batch_size) for r in refs]
    except RubricError as e:
        raise UsageError(str(e)) from None
    judges = [j for r in rubrics for j in judges_in(r)]
    client = None
    if judges:
        if not judge_model:
            raise UsageError(f"rubric {judges[0].name} is an LLM judge: give --judge-model (and --judge-base-url)")
        from rubrics.judge_backend import make_chat

        client = make_chat(model=judge_model, base_url=judge_base_url, api_key_env=judge_key_env, cache=cache,
                           concurrency=concurrency)
        for j in judges:
            j.chat = client
    return rubrics, client


def ray_rule_rubrics_only(refs: list[str]) -> None:
    """--engine ray scores with rule rubrics only: they are pure per record. Judges and reward models
    hold clients and GPUs, and z-normalised recipes need whole prompt groups, which a range may cut."""
    from rubrics.composite import CompositeRubric
    from rubrics.load import RubricError, load_rubric
    from rubrics.rules import RuleRubric

    try:
        rubrics = [load_rubric(r) for r in refs]
    except RubricError as e:
        raise UsageError(str(e)) from None
    for r in rubrics:
        leaves = list(r.components()) if isinstance(r, CompositeRubric) else [r]
        if isinstance(r, CompositeRubric) and r.normalize != "none":
            raise UsageError(f"--engine ray: recipe {r.name} uses normalize: {r.normalize}, which needs whole prompt "
                             f"groups; use --engine local")
        bad = [x.name for x in leaves if not isinstance(x, RuleRubric)]
        if bad:
            raise UsageError(f"--engine ray scores with rule rubrics only; {', '.join(bad)} is not one "
                             f"(use --engine local)")


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
        concurrency: int = CONCURRENCY,
        batch_size: int = typer.Option(64, "--batch-size", help="Records scored together (reward-model batch)."),
        allow: Optional[list[str]] = o.ALLOW,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
    ) -> None:
        """Score answers with rubrics; writes meta.scores (values) and meta.score_details (verdicts)."""
        from curator.score import score_records

        params = dict(inputs=[str(p) for p in inputs], out=str(out), rubric=rubric, from_=from_, mapping=mapping,
                      judge_model=judge_model, judge_base_url=judge_base_url, judge_retries=judge_retries,
                      batch_size=batch_size, engine=engine)
        with usage_guard():
            o.check_engine(engine)
            o.check_inputs(inputs)
            ropts = o.read_options(mapping)
            if batch_size < 1:
                raise UsageError("--batch-size must be >= 1")
            if engine == "ray":
                ray_rule_rubrics_only(refs=rubric)
            cache_path = cache or out.with_name(out.name.split(".")[0] + ".cache.sqlite")
            rubrics, client = load_rubrics(rubric, judge_model=judge_model, judge_base_url=judge_base_url,
                                           judge_key_env=judge_api_key_env, judge_retries=judge_retries,
                                           cache=cache_path, concurrency=concurrency, rm_batch_size=min(batch_size, 32))
            run = CommandRun("score", out=out, params=params, inputs=inputs, max_error_rate=max_error_rate,
                             side_outputs=[("--cache", cache_path)])
        import asyncio

        counts: Counter = Counter()
        loop = asyncio.new_event_loop()
        with run:
            if engine == "ray":
                from curator.engine.ray_run import run_stage
                from curator.engine.tasks import Score

                counts = run_stage(run, inputs, fmt=from_, opts=ropts, encoding=encoding, allow=allow or (),
                                   stage=Score(tuple(str(Path(r).resolve()) if Path(r).is_file() else r for r in rubric),
                                               batch_size), address=ray_address)
                inputs = []

            def stream():
                for path in inputs:
                    yield from run.read(path, from_, opts=ropts, encoding=encoding, allow=allow or ())
            for conv in score_records(stream(), rubrics, reject=run.rejects.reject, batch_size=batch_size,
                                      counts=counts, loop=loop):
                run.write(conv)
            run.extra["verdicts"] = dict(sorted(counts.items()))
            if client is not None:
                run.extra["judge_calls"] = client.stats()
                loop.run_until_complete(client.aclose())
                client.close_cache()
        loop.close()
        for r in rubrics:
            r.close()
        raise typer.Exit(run.exit_code)
