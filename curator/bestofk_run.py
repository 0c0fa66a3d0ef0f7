"""`curate bestofk` as a stage: the asynchronous loop over the generation generator.

The command (`curator.commands.bestofk`) checks its options and builds the backend, the cache,
the rubric and the `BestOfKConfig`; this runs them. Per-prompt logic (candidates, scoring, ties,
pairs) is in `curator.bestofk`.
"""

from __future__ import annotations

from curator.runner import err_console


async def run_bestofk(run, inputs, from_, ropts, encoding, allow, cfg, be, rc, rubric, judge, concurrency,
                      max_retries, pairs_path) -> None:
    """The whole stage: K candidates per prompt, scored, the best written through `run` in input
    order, badcases to its rejects, DPO pairs to `pairs_path`; statistics for the manifest."""
    import time

    import orjson

    from curator.atomic import atomic_open
    from curator.bestofk import best_of_k, probe_n, request_messages, split_prompt
    from curator.generation import Generator, RetryPolicy
    from curator.progress import GenerationProgress
    from curator.progress_line import count_rows, enabled

    generator = Generator(be, concurrency=concurrency, cache=rc, retry=RetryPolicy(max_retries=max_retries))
    run.show_progress = False  # the bar below counts finished prompts, not rows read
    bar = GenerationProgress(generator.stats, count_rows(inputs), label="bestofk", enabled=enabled() and not run.quiet)

    def records():
        for path in inputs:
            yield from run.read(path, from_, opts=ropts, encoding=encoding, allow=allow)

    stream = records()
    first = next(stream, None)
    use_n = False
    if first is not None:
        use_n = await probe_n(generator, request_messages(split_prompt(first, cfg.answer_as_reference), cfg), cfg)

    def all_records():
        if first is not None:
            yield first
        yield from stream

    t0 = time.perf_counter()
    score_s = 0.0
    prompt_s = 0.0
    n_pairs = 0
    pairs_skipped: dict[str, int] = {}
    pairs_cm = atomic_open(pairs_path, "wb") if pairs_path else None
    pairs_fh = pairs_cm.__enter__() if pairs_cm else None
    ok = False
    try:
        bar.__enter__()
        async for oc in generator.map_ordered(all_records(), lambda c: best_of_k(c, generator, rubric, cfg, use_n)):
            bar.advance()
            score_s += oc.score_seconds
            prompt_s += oc.total_seconds
            if oc.record is not None:
                run.write(oc.record)
            if oc.reject is not None:
                conv, code, message, extra = oc.reject
                run.rejects.reject(conv, code, message, **extra)
            if oc.pair is not None and pairs_fh is not None:
                pairs_fh.write(orjson.dumps(oc.pair) + b"\n")
                n_pairs += 1
            elif oc.record is not None and oc.pair_skipped and pairs_fh is not None:
                pairs_skipped[oc.pair_skipped] = pairs_skipped.get(oc.pair_skipped, 0) + 1
        ok = True
    finally:
        bar.__exit__(None, None, None)
        if pairs_cm is not None:
            pairs_cm.__exit__(None if ok else RuntimeError, None if ok else RuntimeError("aborted"), None)
        await be.aclose()
        if judge is not None:
            await judge.aclose()
    run.extra["generation"] = {**generator.stats.to_dict(), "n_mode": "n" if use_n else "seeds"}
    if judge is not None:
        run.extra["judge_calls"] = judge.stats()
    if pairs_path is not None:
        why = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(pairs_skipped.items()))
        err_console.print(f"  pairs: {n_pairs} written to {pairs_path}" + (f"; {sum(pairs_skipped.values())} "
                          f"skipped ({why}; --pair-min-margin {cfg.pair_min_margin})" if pairs_skipped else ""))
    run.extra["bestofk"] = {"k": cfg.k, "rubric": rubric.name, "pairs": n_pairs,
                            "pairs_skipped": dict(sorted(pairs_skipped.items())),
                            "scoring_seconds_summed": round(score_s, 3),
                            "prompt_seconds_summed": round(prompt_s, 3), "seconds": round(time.perf_counter() - t0, 3)}
