"""`curate distill IN... -o OUT --model M [--base-url URL]`: answers from a teacher model.

Thin: parse flags -> build backend, cache and engine -> stream records through
`curator.distill.distill_record` in input order -> write. See docs/distill.md.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Optional

import orjson
import typer

from curator.cache import default_cache_path
from curator.commands import _options as o
from curator.errors import UsageError
from curator.gc_tuning import throughput_gc
from curator.runner import CommandRun, err_console, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def distill(
        inputs: list[Path] = typer.Argument(..., help="Input files (prompts, or conversations to regenerate)."),
        out: Path = o.OUT,
        model: str = typer.Option(..., "--model", help="Teacher model name on the server, or a local model folder."),
        base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. "
                                                "http://localhost:8000/v1 (vLLM), http://localhost:11434/v1 (Ollama)."),
        backend: str = typer.Option("auto", "--backend", help="auto (HTTP when --base-url is given or --model is not "
                                    "a local folder), openai, transformers."),
        api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Environment variable holding the "
                                        "API key (never pass the key itself)."),
        mode: str = typer.Option("fill", "--mode", help="fill (answer prompts without answers), regenerate (replace "
                                 "every answer), multi-turn (answer each user turn in order)."),
        regenerate_rejected: bool = typer.Option(True, "--regenerate-rejected/--keep-rejected-answers",
                                                 help="fill mode: regenerate the answer of records whose answer was "
                                                 "rejected (a rejects file, review status rejected, a badcase export)."),
        system: Optional[str] = typer.Option(None, "--system", help="System prompt sent with every request."),
        template: Optional[str] = typer.Option(None, "--template", help="Jinja2 template for the user text sent "
                                               "({{ prompt }}, {{ id }}, input columns); @FILE reads it from a file."),
        temperature: Optional[float] = typer.Option(None, "--temperature"),
        top_p: Optional[float] = typer.Option(None, "--top-p"),
        max_tokens: Optional[int] = typer.Option(None, "--max-tokens"),
        stop: Optional[list[str]] = typer.Option(None, "--stop", help="Stop sequence, repeatable."),
        seed: Optional[int] = typer.Option(None, "--seed"),
        n: int = typer.Option(1, "--n", help="Answers per prompt (fill mode); each becomes a record ID.sK."),
        concurrency: int = typer.Option(64, "--concurrency", help="Requests in flight at once."),
        client_processes: str = o.CLIENT_PROCESSES,
        rpm: Optional[float] = typer.Option(None, "--rpm", help="Requests-per-minute limit."),
        tpm: Optional[float] = typer.Option(None, "--tpm", help="Tokens-per-minute limit (estimated, then corrected)."),
        max_retries: int = typer.Option(6, "--max-retries", help="Retries on 429/5xx/timeouts before a record is "
                                        "rejected."),
        timeout: float = typer.Option(120.0, "--timeout", help="Seconds per request."),
        cache: Optional[Path] = typer.Option(None, "--cache", help="SQLite cache (default: OUT's name + "
                                             ".cache.sqlite)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the cache."),
        keep_truncated: bool = typer.Option(False, "--keep-truncated", help="Keep answers cut off at max_tokens "
                                            "(flagged in meta.generation.truncated) instead of rejecting them."),
        price_in: Optional[float] = typer.Option(None, "--price-in", help="Price per 1M prompt tokens (for the "
                                                 "cost estimate)."),
        price_out: Optional[float] = typer.Option(None, "--price-out", help="Price per 1M completion tokens."),
        dry_run: int = typer.Option(0, "--dry-run", help="Print the first N requests as JSON and send nothing."),
        batch_size: int = typer.Option(16, "--batch-size", help="Local transformers backend: prompts per generate."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Live progress on stderr."),
        from_: Optional[str] = o.FROM,
        to: str = o.TO,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        reasoning: str = o.REASONING,
        think_tags: str = o.THINK_TAGS,
        allow: Optional[list[str]] = o.ALLOW,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
    ) -> None:
        """Generate answers with a teacher model (OpenAI-compatible server or local transformers), resumably."""
        from curator.backends import make_backend
        from curator.backends.base import SamplingParams
        from curator.distill import DistillConfig, PromptTemplate, first_request

        params = dict(inputs=[str(p) for p in inputs], out=str(out), model=model, base_url=base_url, backend=backend,
                      api_key_env=api_key_env, mode=mode, system=system, template=template, temperature=temperature,
                      top_p=top_p, max_tokens=max_tokens, stop=stop, seed=seed, n=n, concurrency=concurrency,
                      rpm=rpm, tpm=tpm, max_retries=max_retries, timeout=timeout, client_processes=client_processes,
                      cache=None if no_cache else str(cache or default_cache_path(out)),
                      keep_truncated=keep_truncated, from_=from_, to=to, reasoning=reasoning, allow=allow,
                      regenerate_rejected=regenerate_rejected)
        with usage_guard():
            o.check_inputs(inputs)
            if n < 1 or concurrency < 1 or max_retries < 0:
                raise UsageError("--n and --concurrency must be >= 1, --max-retries >= 0")
            if template and template.startswith("@"):
                tpath = Path(template[1:])
                if not tpath.is_file():
                    raise UsageError(f"--template {template}: no such file")
                template = tpath.read_text(encoding="utf-8")
            ropts = o.read_options(mapping, think_tags)
            wopts = o.write_options(reasoning, False, think_tags)
            sampling = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                                      stop=tuple(stop) if stop else None, seed=seed, n=n)
            cfg = DistillConfig(mode=mode, system=system, template=PromptTemplate(template) if template else None,
                                params=sampling, keep_truncated=keep_truncated, think=ropts,
                                regenerate_rejected=regenerate_rejected)
            # MT-Bench `turns` rows are consecutive user turns by design; multi-turn answers them.
            read_allow = {"no_assistant", "no_final_answer", *(allow or ())}  # every mode answers a last user turn
            if mode == "multi-turn":
                read_allow.add("turn_order")
            if dry_run > 0:
                _dry_run(inputs, from_, ropts, encoding, read_allow, cfg, model, dry_run, first_request)
                raise typer.Exit(0)
            be = make_backend(backend, model=model, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
                              concurrency=concurrency, batch_size=batch_size,
                              client_processes=o.client_processes(client_processes))
            run = CommandRun("distill", out=out, params=params, config=cfg, inputs=inputs, max_error_rate=max_error_rate,
                             out_format=to, write_opts=wopts,
                             side_outputs=[("--cache", None if no_cache else cache or default_cache_path(out))])
        with run:
            from curator.cache import ResponseCache

            from curator.distill_run import run_distill

            rc = None if no_cache else ResponseCache(cache or default_cache_path(out))
            try:
                with throughput_gc():
                    asyncio.run(run_distill(run, inputs, from_, ropts, encoding, read_allow, cfg, be, rc, concurrency,
                                            rpm, tpm, max_retries, price_in, price_out, progress))
            finally:
                if rc is not None:
                    rc.close()
        raise typer.Exit(run.exit_code)


def _dry_run(inputs, from_, ropts, encoding, allow, cfg, model, limit, first_request) -> None:
    """Render the first `limit` requests without sending anything (and without writing output)."""
    from curator.io import read_records
    from curator.rejects import RejectSink

    sink = RejectSink(None, stage="distill")
    shown = 0
    for path in inputs:
        for conv in read_records(path, from_, opts=ropts, encoding=encoding, rejects=sink, allow=allow):
            req = first_request(conv, cfg)
            if req is None:
                continue
            body = {"id": conv.id, "model": model, "messages": req.messages, **req.params.to_dict()}
            sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
            shown += 1
            if shown >= limit:
                return
    if sink.counts:
        err_console.print(f"dry run: {len(sink)} input rows would be rejected: {dict(sink.counts)}")
