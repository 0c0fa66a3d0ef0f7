"""`curate distill` as a stage: the asynchronous loop over the generation generator.

The command (`curator.commands.distill`) checks its options and builds the backend, the cache
and the `DistillConfig`; this runs them. Per-record logic (modes, regeneration, truncation) is in
`curator.distill`.
"""

from __future__ import annotations

from curator.runner import err_console


async def run_distill(run, inputs, from_, ropts, encoding, allow, cfg, be, rc, concurrency, rpm, tpm, max_retries,
                      price_in, price_out, show_progress) -> None:
    """The whole stage: every input record through `distill_record` on the generation generator
    (a bounded window, retries, the cache), written in input order through `run`; the progress
    bar, the answer counts and the generation statistics for the manifest."""
    from curator.distill import distill_record
    from curator.generation import Generator, RetryPolicy
    from curator.progress import GenerationProgress

    generator = Generator(be, concurrency=concurrency, cache=rc, retry=RetryPolicy(max_retries=max_retries), rpm=rpm,
                    tpm=tpm)

    def records():
        for path in inputs:
            yield from run.read(path, from_, opts=ropts, encoding=encoding, allow=allow)

    from curator.progress_line import count_rows, enabled

    run.show_progress = False  # this bar counts finished prompts, not rows read
    bar = GenerationProgress(generator.stats, count_rows(inputs), price_in=price_in, price_out=price_out,
                             enabled=show_progress and enabled() and not run.quiet)
    generated = 0
    actions = {"filled": 0, "regenerated": 0, "passed": 0}
    try:
        with bar:
            async for outcome in generator.map_ordered(records(), lambda c: distill_record(c, generator, cfg)):
                for rec in outcome.records:
                    run.write(rec)
                for conv, code, message, extra in outcome.rejects:
                    run.rejects.reject(conv, code, message, **extra)
                generated += outcome.generated
                actions[outcome.action] += 1
                bar.advance()
    finally:
        await be.aclose()
    stats = generator.stats.to_dict()
    stats["records_generated"] = generated
    cost = generator.stats.cost(price_in, price_out)
    if cost is not None:
        stats["estimated_cost"] = round(cost, 6)
    run.extra["generation"] = stats
    run.extra["answers"] = actions
    err_console.print(f"  answers: {actions['filled']} filled, {actions['regenerated']} regenerated (answer was "
                      f"rejected), {actions['passed']} passed through unchanged")
    if cfg.params.n > 1:
        # n records per answered prompt: in = out + rejects holds per sample, not per input row.
        run.extra["samples_per_prompt"] = cfg.params.n
    err_console.print(bar.summary())
