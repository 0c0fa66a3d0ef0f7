"""Best-of-K: draw K candidates per prompt, drop (near-)duplicates, score, keep the best.

Generation goes through the shared generator (`curator.generation.Generator`: concurrency, retries,
SQLite cache) and judging through the same cache, so a killed run restarts without regenerating
or re-scoring anything already done. K candidates come from one request with ``n=K`` when the
server honours `n` (probed once per run, `n_mode="auto"`), else from K requests with distinct
seeds and sample indexes (distinct cache entries).

Selection is deterministic: candidates are ordered by (value desc, sample index asc). A prompt
with no eligible candidate (passed, value >= min_score) goes to the rejects as a badcase with
all its candidates (`no_passing_candidate`); a best that does not beat the runner-up by
`min_margin` is `low_margin`. The chosen record's ``meta.bestofk`` is the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Sequence

from curator.config_check import Bounds, check_config

from curator.record import Conversation, Message
from rubrics.base import OK, GATED, Rubric, Score


@dataclass
class BestOfKConfig:
    """Options of `curate bestofk` (validated here for the CLI, recipes and Python alike)."""

    k: Annotated[int, Bounds(1)] = 4
    temperature: float = 0.8
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int = 0
    n_mode: Literal["auto", "n", "seeds"] = "auto"
    near_dup: Annotated[float, Bounds(0, 1, lo_open=True)] = 0.95  # rapidfuzz ratio (0..1) at or above which a candidate is a duplicate
    min_score: float | None = None
    min_margin: float | None = None
    keep_candidates: bool = False
    system: str | None = None
    answer_as_reference: Literal["auto", "always", "never"] = "auto"  # auto: a GSM8K #### gold answer only
    pair_min_margin: Annotated[float, Bounds(0)] = 0.0  # a DPO pair needs chosen - rejected > this (never a tie)

    def __post_init__(self) -> None:
        check_config(self)


@dataclass
class Outcome:
    record: Conversation | None = None
    reject: tuple[Conversation, str, str, dict[str, Any]] | None = None
    pair: dict[str, Any] | None = None
    pair_skipped: str | None = None  # why no pair was written for a kept record (no_margin, no_rejected)
    generated: int = 0
    score_seconds: float = 0.0
    total_seconds: float = 0.0


@dataclass
class Candidate:
    sample: int
    content: str
    reasoning: str | None
    finish_reason: str | None = None
    duplicate_of: int | None = None
    note: str | None = None
    score: Score | None = None

    def message(self) -> Message:
        return Message("assistant", self.content, reasoning=self.reasoning)


def is_gold_answer(text: str) -> bool:
    """Does an existing answer look like a gold answer (GSM8K ``#### 72``) rather than an old
    generation? Only a gold answer is a reference: comparing fresh answers with an old free-text
    answer rejected ~95% of best-of-K output as answer_mismatch (issue #18)."""
    return "####" in text and bool(text.rsplit("####", 1)[1].strip())


def split_prompt(conv: Conversation, answer_as_reference: str = "auto") -> Conversation:
    """The prompt part of a record. An existing final assistant answer is kept as
    ``meta.previous_answer``; it becomes the reference (``meta.reference``, unless one is set) only
    when it is a gold answer: ``auto`` — GSM8K-style ``####``; ``always``; ``never``."""
    prompt = conv.copy()
    if prompt.messages and prompt.messages[-1].role == "assistant":
        last = prompt.messages.pop()
        if answer_as_reference == "always" or (answer_as_reference == "auto" and is_gold_answer(last.content)):
            prompt.meta.setdefault("reference", last.content)
        else:
            prompt.meta["previous_answer"] = last.content
    return prompt


def request_messages(prompt: Conversation, cfg: BestOfKConfig) -> list[dict[str, Any]]:
    msgs = [m.to_dict() for m in prompt.messages]
    for m in msgs:
        m.pop("weight", None)
        m.pop("reasoning_content", None)  # earlier turns' reasoning is not sent back (as APIs require)
    if cfg.system and not (msgs and msgs[0]["role"] == "system"):
        msgs.insert(0, {"role": "system", "content": cfg.system})
    return msgs


async def probe_n(generator: Any, messages: list[dict[str, Any]], cfg: BestOfKConfig) -> bool:
    """Does the server return K choices for n=K? One (cached) request on the first prompt."""
    if cfg.n_mode != "auto":
        return cfg.n_mode == "n"
    if cfg.k == 1:
        return False
    from curator.generation import GenerationFailed

    try:
        res = await generator.call(_request(messages, cfg, n=cfg.k, sample=0))
    except GenerationFailed:
        return False
    return len(res.choices) >= cfg.k


def _request(messages, cfg: BestOfKConfig, *, n: int, sample: int):
    from curator.backends import GenerationRequest, SamplingParams

    params = SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens,
                            seed=cfg.seed + sample, n=n)
    return GenerationRequest(messages, params, sample=sample, tag="bestofk")


async def draw(generator: Any, messages: list[dict[str, Any]], cfg: BestOfKConfig, use_n: bool) -> list[Candidate]:
    """K candidates: one n=K request, or K single requests with seeds seed..seed+K-1."""
    import asyncio

    from curator.generation import split_answer

    if use_n:
        results = [await generator.call(_request(messages, cfg, n=cfg.k, sample=0))]
        choices = [c for r in results for c in r.choices][: cfg.k]
    else:
        results = await asyncio.gather(*(generator.call(_request(messages, cfg, n=1, sample=i)) for i in range(cfg.k)))
        choices = [r.choices[0] for r in results if r.choices]
    out = []
    for i, ch in enumerate(choices):
        try:
            a = split_answer(ch)
        except Exception as e:  # an unterminated think block: keep it visible, never score it
            out.append(Candidate(i, ch.content or "", ch.reasoning, ch.finish_reason, note=f"broken answer: {e}"))
            continue
        note = f"truncated ({a.truncated})" if a.truncated else ("empty answer" if not a.content.strip() else None)
        out.append(Candidate(i, a.content, a.reasoning, a.finish_reason, note=note))
    return out


def mark_duplicates(cands: Sequence[Candidate], threshold: float) -> None:
    """Exact (whitespace-normalised) and near-identical candidates point at the first such one."""
    from rapidfuzz import fuzz

    from curator.answer_match import last_number

    kept: list[tuple[int, str, str | None]] = []
    for c in cands:
        if c.note:
            continue
        norm = " ".join(c.content.split())
        num = last_number(norm)
        for idx, other, other_num in kept:
            # Two solutions that differ only in the final number are different answers, not duplicates
            # (a 0.95 ratio merged "the answer is 71" with "... 72" and hid the right one).
            if norm == other or (threshold < 1.0 and num == other_num
                                 and fuzz.ratio(norm, other) >= threshold * 100):
                c.duplicate_of = idx
                break
        else:
            kept.append((c.sample, norm, num))


def rank(cands: Sequence[Candidate]) -> list[Candidate]:
    """Scored candidates, best first; ties broken by the lower sample index."""
    scored = [c for c in cands if c.score is not None and c.score.ok]
    return sorted(scored, key=lambda c: (-c.score.value, c.sample))


def audit(cands: Sequence[Candidate], keep_text: bool) -> list[dict[str, Any]]:
    rows = []
    for c in cands:
        d: dict[str, Any] = {"sample": c.sample}
        if c.score is not None:
            d.update(score=c.score.value, passed=c.score.passed, explanation=c.score.explanation)
            if c.score.status != OK:
                d["status"] = c.score.status
        if c.duplicate_of is not None:
            d["duplicate_of"] = c.duplicate_of
        if c.note:
            d["note"] = c.note
        if c.finish_reason and c.finish_reason != "stop":
            d["finish_reason"] = c.finish_reason
        if keep_text:
            d["text"] = c.content
            if c.reasoning:
                d["reasoning"] = c.reasoning
        rows.append(d)
    return rows


async def best_of_k(conv: Conversation, generator: Any, rubric: Rubric, cfg: BestOfKConfig, use_n: bool) -> Outcome:
    """One prompt end to end. Never raises for a bad prompt or a failed request: that is a reject."""
    import time

    from curator.generation import GenerationFailed

    t_start = time.perf_counter()
    prompt = split_prompt(conv, cfg.answer_as_reference)
    messages = request_messages(prompt, cfg)
    try:
        cands = await draw(generator, messages, cfg, use_n)
    except GenerationFailed as e:
        return Outcome(reject=(conv, e.error.code, f"generation failed after retries: {e}", {}))
    mark_duplicates(cands, cfg.near_dup)
    live = [c for c in cands if c.duplicate_of is None and not c.note]
    t0 = time.perf_counter()
    if live:
        scores = await rubric.ascore_group(prompt, [c.message() for c in live])
        for c, s in zip(live, scores):
            c.score = s
    took = time.perf_counter() - t0
    trail = audit(cands, cfg.keep_candidates)
    base = {"k": cfg.k, "rubric": rubric.name, "unique": len(live)}
    ranked = rank(live)
    eligible = [c for c in ranked if c.score.passed and (cfg.min_score is None or c.score.value >= cfg.min_score)]

    def badcase(code: str, message: str) -> Outcome:
        bad = prompt.copy()
        bad.meta["bestofk"] = {**base, "candidates": audit(cands, True)}
        bad.origin = conv.origin
        return Outcome(reject=(bad, code, message, {}), generated=len(cands), score_seconds=took,
                       total_seconds=time.perf_counter() - t_start)

    if not live:
        return badcase("no_candidates", f"none of the {len(cands)} candidates is usable (truncated, empty or broken)")
    if not eligible:
        best = f"best score {ranked[0].score.value:.4g}" if ranked else "no candidate got a score"
        need = f" >= {cfg.min_score}" if cfg.min_score is not None else ""
        return badcase("no_passing_candidate", f"no candidate passed {rubric.name}{need} ({best}) — "
                       "review the candidates in this reject, or relax --min-score")
    chosen = eligible[0]
    runner = next((c for c in ranked if c is not chosen), None)
    margin = None if runner is None else chosen.score.value - runner.score.value
    if cfg.min_margin is not None and margin is not None and margin < cfg.min_margin:
        return badcase("low_margin", f"best {chosen.score.value:.4g} beats the runner-up by {margin:.4g} "
                       f"< --min-margin {cfg.min_margin}")
    out = prompt.copy()
    out.origin = conv.origin
    out.messages.append(chosen.message())
    from curator.score import record_scores

    record_scores(out.meta, rubric.name, chosen.score)
    out.meta["bestofk"] = {**base, "chosen": chosen.sample, "margin": None if margin is None else round(margin, 6),
                           "candidates": trail}
    out.add_lineage(f"bestofk:k={cfg.k}:{rubric.name}")
    pair, skipped = make_pair(out.id, messages, chosen, _worst(cands, chosen), cfg.pair_min_margin)
    return Outcome(record=out, pair=pair, pair_skipped=skipped, generated=len(cands), score_seconds=took,
                   total_seconds=time.perf_counter() - t_start)


def make_pair(rid: str, messages: list[dict[str, Any]], chosen: Candidate, worst: Candidate | None,
              min_margin: float) -> tuple[dict[str, Any] | None, str | None]:
    """(pair, None), or (None, why): a pair teaches a preference only when the chosen answer is
    better. A gated "rejected" (ruled out by a gate) always qualifies; otherwise the scores must
    differ by more than `min_margin` — 65 of 65 pairs on a real run were ties."""
    if worst is None:
        return None, "no_rejected"
    gated = worst.score is not None and worst.score.status == GATED
    w = worst.score.value if worst.score is not None else None
    margin = None if w is None else chosen.score.value - w
    if not gated and (margin is None or margin <= min_margin):
        return None, "no_margin"
    return {"id": rid, "prompt": messages, "chosen": [chosen.message().to_dict()],
            "rejected": [worst.message().to_dict()],
            "meta": {"score_chosen": chosen.score.value, "score_rejected": w,
                     "margin": None if margin is None else round(margin, 6),
                     "rejected_status": worst.score.status if worst.score else None,
                     "chosen_sample": chosen.sample, "rejected_sample": worst.sample}}, None


def _worst(cands: Sequence[Candidate], chosen: Candidate) -> Candidate | None:
    """The DPO 'rejected': the lowest-scored distinct candidate, a gated one (ruled out by a
    gate) counting as the lowest; unparseable verdicts are no evidence either way and are skipped."""
    pool = [c for c in cands if c is not chosen and c.duplicate_of is None and not c.note and c.score is not None
            and (c.score.ok or c.score.status == GATED)]
    if not pool:
        return None
    return min(pool, key=lambda c: (0 if c.score.status == GATED else 1, c.score.value or 0.0, -c.sample))
