"""`curate eval --arena DB -o arena.json [--judge pairwise_helpfulness --judge-model M --judge-base-url URL]`:
the result of a blind A/B review, and — with --judge — the pairwise judge run on the same pairs
(both orders) so its agreement with the annotators is measured."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape

from curator.errors import UsageError
from curator.review.arena import ArenaStore, load_pairs
from curator.review.arena_stats import kappa_words, summarize


def run_judge(store: ArenaStore, rubric_ref: str, *, model: str | None, base_url: str | None, key_env: str,
              concurrency: int = 16) -> dict[str, Any]:
    """Judge every pair with a pairwise rubric; verdicts go into the store. Returns call stats."""
    from rubrics.judge import JudgeRubric
    from rubrics.judge_backend import make_chat
    from rubrics.load import RubricError, load_rubric

    try:
        rubric = load_rubric(rubric_ref)
    except (RubricError, ValueError) as e:
        raise UsageError(f"--judge {rubric_ref}: {e}") from None
    if not isinstance(rubric, JudgeRubric) or not rubric.spec.pairwise:
        raise UsageError(f"--judge {rubric_ref}: not a pairwise judge rubric (e.g. pairwise_helpfulness)")
    if not model:
        raise UsageError("--judge needs --judge-model (and --judge-base-url for a local server)")
    a, b = Path(store.info["a"]), Path(store.info["b"])
    for p in (a, b):
        if not p.exists():
            raise UsageError(f"{p}: the answers compared in {store.path} are gone; the judge needs them")
    pairs, _ = load_pairs(a, b)
    chat = make_chat(model=model, base_url=base_url, api_key_env=key_env,
                     cache=store.path.with_name(store.path.name + ".judge-cache.sqlite"), concurrency=concurrency)
    rubric.chat = chat

    async def all_pairs():
        try:
            return await asyncio.gather(*(rubric.judge_pair(p.prompt, p.a, p.b) for p in pairs))
        finally:
            await chat.aclose()

    verdicts = asyncio.run(all_pairs())
    chat.close_cache()
    store.set_judge(rubric.name, {p.key: ({"x": "a", "y": "b", "tie": "tie"}.get(v.value) if v.ok else None, v.reason)
                                  for p, v in zip(pairs, verdicts)})
    return chat.stats()


def arena_command(db: Path, out: Path, *, judge: str | None = None, judge_model: str | None = None,
                  judge_base_url: str | None = None, judge_key_env: str = "OPENAI_API_KEY") -> int:
    from curator.atomic import atomic_open
    from curator.runner import usage_error

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        store = ArenaStore(db)
        if judge:
            run_judge(store, judge, model=judge_model, base_url=judge_base_url, key_env=judge_key_env)
        result = summarize(store)
        store.close()
    except UsageError as e:
        usage_error(str(e))
    with atomic_open(out, "wb") as fh:
        fh.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print_arena(result, console)
    console.print(f"wrote {escape(str(out))}")
    return 0


def print_arena(result: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]{escape(result['verdict'])}[/]")
    for ann, w in result["per_annotator"].items():
        rate = f"{w['a_win_rate']:.1%}" if w.get("a_win_rate") is not None else "-"
        console.print(f"  {escape(ann)}: {w['pairs']} pairs, A {w['a_wins']} / B {w['b_wins']} / tie {w['ties']} / "
                      f"both bad {w['both_bad']}, A win rate {rate}")
    for k, v in result["inter_annotator"].items():
        if v["pairs"]:
            console.print(f"  annotators {escape(k)}: {v['pairs']} common pairs, agreement {v['agreement']:.0%}, "
                          f"kappa {v['kappa'] if v['kappa'] is None else round(v['kappa'], 3)} ({kappa_words(v['kappa'])})")
    for rubric, j in result["judge"].items():
        console.print(f"  judge {escape(rubric)}: {j['judged']} pairs judged, {j['unparseable']} unparseable")
        for ann, v in j["vs_annotators"].items():
            if v["pairs"]:
                trust = "the judge can stand in" if (v["kappa"] or 0) >= 0.6 else "do not trust the judge alone"
                console.print(f"    vs {escape(ann)}: agreement {v['agreement']:.0%}, kappa "
                              f"{v['kappa'] if v['kappa'] is None else round(v['kappa'], 3)} ({kappa_words(v['kappa'])}): {trust}")
