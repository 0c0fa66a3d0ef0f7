"""`curate score` as a stage: attach rubric scores to records, in `meta.scores`.

``meta.scores[name]`` is the value (a plain number, so `curate filter` can threshold it; None
when a judge gave no parseable verdict); ``meta.score_details[name]`` keeps passed, explanation
and status. A composite also writes each of its components' values under their own names.

The scored candidate is the last assistant turn; the prompt is everything before it.
Records stream through in chunks; consecutive records with the same prompt form one group, so
per-prompt z-normalisation and pairwise judging see all answers to a prompt when they are
adjacent (as best-of-K and multi-sample distill write them). Chunks never split a group.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator, Sequence

from curator.errors import UsageError
from curator.record import Conversation, content_id
from rubrics.base import Rubric, Score
from rubrics.composite import CompositeRubric
from rubrics.judge import JudgeRubric

RejectFn = Callable[[Conversation, str, str], None]


def prompt_key(conv: Conversation) -> str:
    return content_id(conv.prompt_messages(), conv.tools)


def record_scores(meta: dict, name: str, s: Score) -> None:
    """Write one rubric's verdict (and a composite's parts) into a record's meta."""
    scores = meta.setdefault("scores", {})
    details = meta.setdefault("score_details", {})
    for part, ps in (s.parts or {}).items():
        scores[part] = ps.value
    scores[name] = s.value
    d = s.to_dict()
    if s.parts:
        d["parts"] = {k: v.to_dict() for k, v in s.parts.items()}
    details[name] = d


def _chunks(convs: Iterable[Conversation], size: int) -> Iterator[list[list[Conversation]]]:
    chunk: list[list[Conversation]] = []
    n = 0
    for _, grp in groupby(convs, key=prompt_key):
        g = list(grp)
        chunk.append(g)
        n += len(g)
        if n >= size:
            yield chunk
            chunk, n = [], 0
    if chunk:
        yield chunk


async def _score_groups(rubric: Rubric, groups: Sequence[list[Conversation]]) -> list[list[Score]]:
    return list(await asyncio.gather(*(
        rubric.ascore_group(g[0], [c.last("assistant") for c in g]) for g in groups)))


def _score_chunk(rubric: Rubric, groups: list[list[Conversation]], loop: asyncio.AbstractEventLoop) -> list[list[Score]]:
    if isinstance(rubric, (CompositeRubric, JudgeRubric)):
        # One event loop for the whole run: the judge's HTTP connections and semaphores belong to it.
        return loop.run_until_complete(_score_groups(rubric, groups))
    # Rules, reward models, functions: one batch across prompts (reward models batch on the GPU).
    items = [(c, c.last("assistant")) for g in groups for c in g]
    flat = rubric.score_batch(items)
    out, i = [], 0
    for g in groups:
        out.append(flat[i:i + len(g)])
        i += len(g)
    return out


def score_records(convs: Iterable[Conversation], rubrics: Sequence[Rubric], *, reject: RejectFn,
                  batch_size: int = 64, counts: Counter | None = None,
                  loop: asyncio.AbstractEventLoop | None = None) -> Iterator[Conversation]:
    """Score each record with every rubric. A record without an assistant answer is rejected
    (`no_answer`); a missing verdict is kept and counted in `counts["<name>:<status>"]`."""
    counts = counts if counts is not None else Counter()
    own_loop = loop is None
    loop = loop or asyncio.new_event_loop()

    def answered(stream: Iterable[Conversation]) -> Iterator[Conversation]:
        for c in stream:
            if c.last("assistant") is None:
                reject(c, "no_answer", "record has no assistant answer to score — score answered data "
                       "(use `curate bestofk` or `curate distill` to create answers for prompts)")
            else:
                yield c

    try:
        yield from _scored(answered(convs), rubrics, batch_size, counts, loop)
    finally:
        if own_loop:
            loop.close()


def _scored(convs, rubrics, batch_size, counts, loop) -> Iterator[Conversation]:
    for groups in _chunks(convs, batch_size):
        per_rubric = [_score_chunk(r, groups, loop) for r in rubrics]
        for gi, g in enumerate(groups):
            for ci, conv in enumerate(g):
                for r, res in zip(rubrics, per_rubric):
                    s = res[gi][ci]
                    record_scores(conv.meta, r.name, s)
                    counts[f"{r.name}:{s.status}"] += 1
                    counts[f"{r.name}:passed"] += int(s.passed)
                conv.add_lineage("score:" + ",".join(r.name for r in rubrics))
                yield conv


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


@dataclass
class ScoreStage:
    """Scoring as a stage with driver state (`curator.engine.run_whole_stage`). Locally the loaded
    rubrics share one judge client and event loop; on Ray (`curator.engine.ray_score`) each task
    loads the rule rubrics itself (`curator.engine.tasks.Score`), so only rule rubrics run there
    (`check_rubrics_for_engine`)."""

    ray_driver: ClassVar[str] = "curator.engine.ray_score"

    inputs: list[Path]
    refs: list[str]                # the --rubric values, as given
    rubrics: list[Rubric]          # loaded from `refs` (the local body scores with these)
    client: Any                    # their shared judge chat client, or None
    batch_size: int
    from_: str | None
    ropts: Any
    encoding: str | None
    allow: Sequence[str] = ()

    def run_local(self, run) -> Counter:
        counts: Counter = Counter()
        loop = asyncio.new_event_loop()
        try:
            convs = (c for path in self.inputs
                     for c in run.read(path, self.from_, opts=self.ropts, encoding=self.encoding, allow=self.allow))
            for conv in score_records(convs, self.rubrics, reject=run.rejects.reject, batch_size=self.batch_size,
                                      counts=counts, loop=loop):
                run.write(conv)
            self.finish(run, counts, loop)
        finally:
            loop.close()
        return counts

    def finish(self, run, counts: Counter, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """The manifest's verdict counts and judge-call figures; closes the judge client."""
        run.extra["verdicts"] = dict(sorted(counts.items()))
        if self.client is not None:
            run.extra["judge_calls"] = self.client.stats()
            own = loop is None
            loop = loop or asyncio.new_event_loop()
            try:
                loop.run_until_complete(self.client.aclose())
            finally:
                if own:
                    loop.close()
            self.client.close_cache()


def check_rubrics_for_engine(engine: str, refs: list[str]) -> None:
    """--engine ray scores with rule rubrics only: they are pure per record. Judges and reward models
    hold clients and GPUs, and z-normalised recipes need whole prompt groups, which a range may cut."""
    if engine != "ray":
        return
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
