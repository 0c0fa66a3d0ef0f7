"""`curate bestofk PROMPTS -o OUT --model M --rubric R --k 4`: K candidates per prompt, scored,
the best kept (needs the generation layer: curator.backends, curator.generation, curator.cache)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.commands._options import (CONCURRENCY, JUDGE_BASE_URL, JUDGE_KEY_ENV, JUDGE_MODEL, JUDGE_RETRIES,
                                        RUBRIC)
from curator.errors import UsageError
from curator.gc_tuning import throughput_gc
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def bestofk(
        inputs: list[Path] = typer.Argument(..., help="Prompts (any format; an existing answer is kept as meta.previous_answer, and is the reference only when it is a gold answer, see --answer-as-reference)."),
        out: Path = o.OUT,
        model: str = typer.Option(..., "--model", help="Generating model (server model name or local folder)."),
        rubric: list[str] = RUBRIC,
        k: int = typer.Option(4, "--k", help="Candidates per prompt."),
        base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible base URL."),
        backend: str = typer.Option("auto", "--backend", help="auto, openai or transformers."),
        api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Env var holding the API key."),
        n_mode: str = typer.Option("auto", "--n-mode", help="auto (probe once whether the server honours n=K), "
                                   "n, or seeds (K requests with distinct seeds)."),
        temperature: float = typer.Option(0.8, "--temperature"),
        top_p: Optional[float] = typer.Option(None, "--top-p"),
        max_tokens: Optional[int] = typer.Option(None, "--max-tokens"),
        seed: int = typer.Option(0, "--seed", help="Base seed; candidate i uses seed+i."),
        system: Optional[str] = typer.Option(None, "--system", help="System prompt for prompts without one."),
        min_score: Optional[float] = typer.Option(None, "--min-score", help="Best must reach this, else the prompt is "
                                                  "a no_passing_candidate reject with all its candidates."),
        min_margin: Optional[float] = typer.Option(None, "--min-margin", help="Best must beat the runner-up by this."),
        near_dup: float = typer.Option(0.95, "--near-dup", help="Similarity (0..1) at which candidates are "
                                       "duplicates and dropped before scoring; 1 = exact only."),
        keep_candidates: bool = typer.Option(False, "--keep-candidates", help="Store every candidate's text in meta."),
        pairs: Optional[Path] = typer.Option(None, "--pairs", help="Also write chosen/rejected (best vs worst) "
                                             "preference pairs for DPO to this JSONL file."),
        pair_min_margin: float = typer.Option(0.0, "--pair-min-margin", help="A --pairs pair is written only when "
                                              "chosen - rejected score > this (ties never); skipped pairs are counted."),
        answer_as_reference: str = typer.Option("auto", "--answer-as-reference", help="An input's existing answer "
                                                "becomes meta.reference: auto (only a GSM8K-style '#### N' gold answer), "
                                                "always, never; otherwise it is kept as meta.previous_answer."),
        judge_model: Optional[str] = JUDGE_MODEL,
        judge_base_url: Optional[str] = JUDGE_BASE_URL,
        judge_api_key_env: str = JUDGE_KEY_ENV,
        judge_retries: int = JUDGE_RETRIES,
        cache: Optional[Path] = typer.Option(None, "--cache", help="SQLite cache for generation and judge calls "
                                             "(default: <out>.cache.sqlite); a re-run resumes from it."),
        no_cache: bool = o.NO_CACHE,
        concurrency: int = CONCURRENCY,
        client_processes: str = o.CLIENT_PROCESSES,
        max_retries: int = typer.Option(6, "--max-retries"),
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        allow: Optional[list[str]] = o.ALLOW,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
    ) -> None:
        """Best-of-K: draw K candidates per prompt, drop near-duplicates, score with a rubric, keep the best."""
        from curator.bestofk import BestOfKConfig

        with usage_guard():
            o.check_inputs(inputs)
            cfg = BestOfKConfig(k=k, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed,
                                n_mode=n_mode, near_dup=near_dup, min_score=min_score, min_margin=min_margin,
                                keep_candidates=keep_candidates, system=system,
                                answer_as_reference=answer_as_reference, pair_min_margin=pair_min_margin)
            if concurrency < 1:
                raise UsageError("--concurrency must be >= 1")
            ropts = o.read_options(mapping)
            from curator.backends import make_backend
            from curator.cache import ResponseCache, default_cache_path
            from curator.bestofk_run import run_bestofk
            from curator.score import load_rubrics

            cache_path = None if no_cache else cache or default_cache_path(out)
            rubrics, judge = load_rubrics(rubric, judge_model=judge_model, judge_base_url=judge_base_url,
                                          judge_key_env=judge_api_key_env, judge_retries=judge_retries,
                                          cache=cache_path, concurrency=concurrency)
            if len(rubrics) != 1:
                raise UsageError("best-of-K ranks by one rubric: combine several in a recipe file (gates + terms)")
            be = make_backend(backend, model=model, base_url=base_url, api_key_env=api_key_env,
                              concurrency=concurrency, client_processes=o.client_processes(client_processes))
            run = CommandRun("bestofk", out=out, params={}, config=cfg, inputs=inputs, max_error_rate=max_error_rate,
                             side_outputs=[("--pairs", pairs), ("--cache", cache_path)])
        with run:
            rc = ResponseCache(cache_path) if cache_path is not None else None
            try:
                with throughput_gc():
                    read_allow = {"no_assistant", "no_final_answer", *(allow or ())}
                    asyncio.run(run_bestofk(run, inputs, from_, ropts, encoding, read_allow, cfg, be, rc,
                                            rubrics[0], judge, concurrency, max_retries, pairs))
            finally:
                if rc is not None:
                    rc.close()
                if judge is not None:
                    judge.close_cache()
        rubrics[0].close()
        raise typer.Exit(run.exit_code)
