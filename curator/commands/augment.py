"""`curate augment BADCASES... -o prompts.jsonl --per K --model M [--base-url URL] [--exclude eval.jsonl]`:
a teacher writes K new prompts per badcase; near-duplicates of the badcase, the eval set or each
other are dropped to the rejects. Then `curate distill`/`curate bestofk` answer them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def augment(
        inputs: list[Path] = typer.Argument(..., help="Badcase queues (curate eval --badcases, train eval's "
                                            "badcases.jsonl, curate review export --badcases)."),
        out: Path = o.OUT,
        per: int = typer.Option(3, "--per", help="New prompts per badcase."),
        model: str = typer.Option(..., "--model", help="Teacher model name on the server, or a local model folder."),
        base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server of the teacher."),
        backend: str = typer.Option("auto", "--backend", help="auto, openai, transformers."),
        api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Environment variable holding the key."),
        exclude: Optional[list[Path]] = typer.Option(None, "--exclude", help="Eval files whose prompts new prompts "
                                                     "must not resemble (no leakage), repeatable."),
        threshold: float = typer.Option(0.6, "--threshold", help="Estimated Jaccard (character 3-grams) at or above "
                                        "which a new prompt is a near-duplicate."),
        temperature: float = typer.Option(0.9, "--temperature"),
        max_tokens: int = typer.Option(1024, "--max-tokens"),
        seed: int = typer.Option(0, "--seed"),
        concurrency: int = typer.Option(16, "--concurrency", help="Teacher requests in flight."),
        max_retries: int = typer.Option(6, "--max-retries"),
        cache: Optional[Path] = typer.Option(None, "--cache", help="SQLite cache (default: OUT's name + .cache.sqlite)."),
        no_cache: bool = typer.Option(False, "--no-cache"),
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
    ) -> None:
        """Turn a model's mistakes into new prompts that exercise the same weakness (lineage kept in
        meta.augmented_from; Chinese badcases get Chinese prompts)."""
        from curator.augment import AugmentConfig, NearDuplicates

        with usage_guard():
            o.check_inputs(inputs + list(exclude or []))
            cfg = AugmentConfig(per=per, threshold=threshold, temperature=temperature, max_tokens=max_tokens)
            from curator.backends import make_backend

            be = make_backend(backend, model=model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency)
        params = dict(inputs=[str(p) for p in inputs], out=str(out), per=per, model=model, base_url=base_url,
                      backend=backend, exclude=[str(p) for p in exclude or []], threshold=threshold,
                      temperature=temperature, max_tokens=max_tokens, seed=seed)
        with CommandRun("augment", out=out, params=params, config=cfg, inputs=inputs, max_error_rate=max_error_rate) as run:
            index = NearDuplicates(cfg.threshold)
            from curator.io import read_records
            from curator.rejects import RejectSink

            for p in exclude or []:
                prompts = [m.content for c in read_records(p, rejects=RejectSink(None), allow=("no_assistant",))
                           for m in c.prompt_messages() if m.role == "user"]
                index.add(prompts)
            # a badcase's answer may be broken model output (U+FFFD from a cut token): it is shown to the
            # teacher, never trained on, so it does not make the badcase unusable
            allow = ("no_assistant", "empty_content", "bad_characters")
            badcases = [c for p in inputs for c in run.read(p, allow=allow)]
            from curator.cache import ResponseCache, default_cache_path

            rc = None if no_cache else ResponseCache(cache or default_cache_path(out))
            try:
                replies = asyncio.run(_ask(be, rc, badcases, cfg, seed, concurrency, max_retries))
            finally:
                if rc is not None:
                    rc.close()
            _write(run, badcases, replies, cfg, index)
        raise typer.Exit(run.exit_code)


async def _ask(be, rc, badcases, cfg, seed, concurrency, max_retries) -> list:
    from curator.augment import teacher_messages
    from curator.backends import GenerationRequest, SamplingParams
    from curator.generation import Generator, GenerationFailed, RetryPolicy

    generator = Generator(be, concurrency=concurrency, cache=rc, retry=RetryPolicy(max_retries=max_retries))
    sp = SamplingParams(temperature=cfg.temperature, max_tokens=cfg.max_tokens, seed=seed)

    async def one(conv):
        try:
            res = await generator.call(GenerationRequest(teacher_messages(conv, cfg.per), sp, tag=conv.id))
            return res.choices[0].content if res.choices else ""
        except GenerationFailed as e:
            return e

    out = []
    try:
        async for r in generator.map_ordered(badcases, one):
            out.append(r)
    finally:
        await be.aclose()
    return out


def _write(run: CommandRun, badcases, replies, cfg, index) -> None:
    from curator.augment import NearDuplicates, badcase_parts, new_records, parse_prompts
    from curator.langid import has_cjk
    from curator.minhash import estimate_jaccard

    for conv, reply in zip(badcases, replies):
        if isinstance(reply, Exception):
            run.rejects.reject(conv, "generation_failed", f"the teacher failed on badcase {conv.id}: {reply}")
            continue
        prompts = parse_prompts(reply or "")[: cfg.per]
        if not prompts:
            run.rejects.reject(conv, "unparseable_reply", f"the teacher's reply for badcase {conv.id} holds no "
                               f"prompts (expected a JSON array of strings): {(reply or '')[:120]!r}")
            continue
        run.add_copies("augmented", len(prompts) - 1)  # one badcase in, len(prompts) records out or rejected
        bad_prompt = badcase_parts(conv)[0]
        zh = has_cjk(bad_prompt)
        sigs = NearDuplicates.signature([bad_prompt] + prompts)
        for rec, text, sig in zip(new_records(conv, prompts), prompts, sigs[1:]):
            rec.origin = conv.origin
            sim = float(estimate_jaccard(sigs[0], sig))
            if zh and not has_cjk(text):
                run.rejects.reject(rec, "language_mismatch", f"new prompt {rec.id} has no Chinese but its badcase is "
                                   "Chinese — the teacher drifted; ask again or lower --temperature")
            elif sim >= cfg.threshold or text.strip() == bad_prompt.strip():
                run.rejects.reject(rec, "near_duplicate_of_badcase", f"new prompt {rec.id} is a near copy of its "
                                   f"badcase (Jaccard ~{sim:.2f} >= {cfg.threshold})", duplicate_of=conv.id)
            elif (hit := index.match(sig, text)) is not None:
                run.rejects.reject(rec, "near_duplicate", f"new prompt {rec.id} resembles {hit[0][:60]!r} (an eval "
                                   f"prompt or another new prompt; Jaccard ~{hit[1]:.2f}) — dropped to avoid leakage",
                                   duplicate_of=hit[0][:200])
            else:
                index.add([text], sig[None, :])
                run.write(rec)
