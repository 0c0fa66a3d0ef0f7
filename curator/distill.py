"""`curate distill`: answers from a teacher model, as a stage over records.

Modes
- ``fill`` (default): a record whose last turn is a user (or tool) turn gets the answer; records
  that already end with an answer pass through unchanged — unless that answer was rejected (read
  from a rejects file, ``meta.review.status = rejected``, a badcase export): its last answer is
  regenerated, the old one kept in ``meta.previous_answer`` and the verdict in ``meta.regenerated``
  (`regenerate_rejected=False` passes them through).
- ``regenerate``: every assistant answer is replaced, in order, each generated from the turns
  before it (earlier answers already regenerated, so the conversation stays the teacher's own).
  Assistant turns that call tools are kept: rewriting them would orphan their tool results.
- ``multi-turn``: every user turn without an answer gets one, in order, given the turns before it
  (MT-Bench ``{"turns": [...]}`` rows become full conversations).

The `--system` prompt and the `--template` shape what the teacher is sent; the record keeps the
original user text (the student should learn to answer the prompt as users will write it).
Earlier answers' reasoning is not sent back (the DeepSeek API rejects it in input messages).

Each generated record gets `meta.generation`; a record that fails (retries exhausted, truncated,
unterminated think block, invalid after generation) goes to the rejects whole, with a reason code
— no half-answered conversations. A failed multi-turn record's finished turns are in the cache,
so a re-run resumes from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from curator.backends.base import GenerationRequest, GenerationResult, SamplingParams
from curator.config_check import check_config
from curator.errors import RowError, UsageError
from curator.formats.common import ReadOptions
from curator.generation import Answer, Generator, GenerationFailed, split_answer
from curator.record import Conversation, Message
from curator.validate import first_problem

Mode = Literal["fill", "regenerate", "multi-turn"]
MODES = get_args(Mode)


class PromptTemplate:
    """A Jinja2 template (sandboxed, undefined names are errors) for the user text sent.

    Fields: ``prompt`` (the user turn's text), ``turn`` (0-based user-turn index), ``id``,
    ``meta``, ``messages`` (the turns before, as dicts) and every extra input column kept in
    ``meta.extra`` (e.g. ``category`` from an Alpaca file), at top level.
    """

    def __init__(self, source: str):
        from jinja2 import StrictUndefined, TemplateSyntaxError
        from jinja2.sandbox import SandboxedEnvironment

        env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
        try:
            self._t = env.from_string(source)
        except TemplateSyntaxError as e:
            raise UsageError(f"--template: line {e.lineno}: {e.message}") from None
        self.source = source

    def render(self, conv: Conversation, text: str, turn: int, before: list[Message]) -> str:
        from jinja2 import TemplateError

        fields: dict[str, Any] = dict(conv.meta.get("extra") or {})
        fields.update(prompt=text, turn=turn, id=conv.id, meta=conv.meta,
                      messages=[m.to_dict() for m in before])
        try:
            return self._t.render(**fields)
        except TemplateError as e:
            raise RowError("template_error", f"--template failed: {e}",
                           fix="check the field names (prompt, turn, id, meta, or the input's extra columns)") from None


@dataclass(frozen=True)
class DistillConfig:
    mode: Mode = "fill"
    system: str | None = None
    template: PromptTemplate | None = None
    params: SamplingParams = SamplingParams()
    keep_truncated: bool = False
    think: ReadOptions = ReadOptions()
    regenerate_rejected: bool = True

    def __post_init__(self) -> None:
        check_config(self)
        if self.params.n > 1 and self.mode != "fill":
            raise UsageError("--n > 1 works with --mode fill only (one answer slot per record to sample)")


@dataclass
class Outcome:
    """What one input record became: records to write and (conv, code, message, extra) rejects."""

    records: list[Conversation] = field(default_factory=list)
    rejects: list[tuple[Conversation, str, str, dict[str, Any]]] = field(default_factory=list)
    generated: bool = False
    action: str = "passed"  # filled | regenerated | passed (what happened to the record's answer)


def rejected_verdict(conv: Conversation) -> dict[str, Any] | None:
    """Why this record's answer was rejected, or None: a rejects-file verdict about the answer
    (not a read error such as unknown_role, which says nothing of the answer) or a reviewer's."""
    from curator.validate import CODES

    rj = conv.meta.get("rejected")
    if isinstance(rj, dict) and rj.get("reason") and rj["reason"] not in CODES:
        return {"from": "rejects", **rj}
    rv = conv.meta.get("review")
    if isinstance(rv, dict) and rv.get("status") == "rejected":
        return {"from": "review", **{k: rv[k] for k in ("reason", "tags", "queue_reason", "file") if k in rv}}
    return None


def request_messages(conv: Conversation, upto: list[Message], cfg: DistillConfig) -> list[dict[str, Any]]:
    """What the teacher is sent for the answer after `upto`: system, templated user turns, no reasoning."""
    out: list[dict[str, Any]] = []
    if cfg.system is not None:
        out.append({"role": "system", "content": cfg.system})
    turn = 0
    for i, m in enumerate(upto):
        if m.role == "system" and cfg.system is not None:
            continue  # --system replaces the record's own for the request
        # Same keys in the same order as before, so cache keys of earlier runs still match.
        d = m.to_dict(reasoning=False, weight=False)
        if m.role == "user":
            if cfg.template is not None:
                d["content"] = cfg.template.render(conv, m.content, turn, upto[:i])
            turn += 1
        out.append(d)
    return out


def targets(messages: list[Message], mode: str) -> list[tuple[str, int]]:
    """Where answers go, as (action, index) on the ORIGINAL list: "replace" the assistant turn at
    index, or "insert" after index (the answer to that user/tool turn)."""
    out: list[tuple[str, int]] = []
    n = len(messages)
    for i, m in enumerate(messages):
        nxt = messages[i + 1].role if i + 1 < n else None
        if mode == "regenerate" and m.role == "assistant" and not m.tool_calls:
            out.append(("replace", i))
        elif mode == "multi-turn" and m.role == "user" and nxt != "assistant":
            out.append(("insert", i))
    if messages and messages[-1].role in ("user", "tool") and not (out and out[-1] == ("insert", n - 1)):
        out.append(("insert", n - 1))
    return out


def first_request(conv: Conversation, cfg: DistillConfig) -> GenerationRequest | None:
    """The first request a record would send (for --dry-run), or None when nothing is generated."""
    plan = targets(conv.messages, cfg.mode)
    if not plan:
        return None
    action, i = plan[0]
    upto = conv.messages[:i] if action == "replace" else conv.messages[: i + 1]
    return GenerationRequest(request_messages(conv, upto, cfg), cfg.params, tag=conv.id)


def _generation_meta(model: str, backend: str, cfg: DistillConfig, steps: list[tuple[GenerationResult, Answer]]
                     ) -> dict[str, Any]:
    last_res, last_ans = steps[-1]
    meta: dict[str, Any] = {
        "backend": backend,
        "model": last_res.model or model,
        "params": cfg.params.to_dict(),
        "finish_reason": last_ans.finish_reason,
        "usage": {"prompt_tokens": sum(r.usage.prompt_tokens for r, _ in steps),
                  "completion_tokens": sum(r.usage.completion_tokens for r, _ in steps)},
        "latency_s": round(sum(r.latency for r, _ in steps), 4),
    }
    if cfg.system is not None:
        meta["system"] = cfg.system
    if cfg.template is not None:
        meta["template"] = cfg.template.source
    if len(steps) > 1:
        meta["turns"] = [{"finish_reason": a.finish_reason,
                          "usage": {"prompt_tokens": r.usage.prompt_tokens,
                                    "completion_tokens": r.usage.completion_tokens},
                          "latency_s": r.latency} for r, a in steps]
    truncated = [a.truncated for _, a in steps if a.truncated]
    if truncated:
        meta["truncated"] = "reasoning" if "reasoning" in truncated else "answer"
    return meta


def _check_answer(ans: Answer, cfg: DistillConfig, where: str) -> tuple[str, str] | None:
    """A reason to reject this answer, or None."""
    if ans.truncated and not cfg.keep_truncated:
        if ans.truncated == "reasoning":
            return ("truncated_reasoning", f"{where}: the teacher hit max_tokens while still reasoning (no answer "
                    f"at all) — raise --max-tokens, or pass --keep-truncated to keep it flagged")
        return ("truncated", f"{where}: the answer was cut off at max_tokens (finish_reason=length) — raise "
                f"--max-tokens, or pass --keep-truncated to keep it flagged")
    if not ans.truncated and not ans.content.strip():
        return ("empty_answer", f"{where}: the teacher returned an empty answer (finish_reason="
                f"{ans.finish_reason})")
    return None


async def distill_record(conv: Conversation, generator: Generator, cfg: DistillConfig) -> Outcome:
    """Generate every answer `cfg.mode` asks for in one record (sequentially: each turn sees the
    answers before it). Never raises for a per-record problem: it becomes a reject."""
    out = Outcome()
    plan = targets(conv.messages, cfg.mode)
    verdict = None
    if not plan and cfg.mode == "fill" and cfg.regenerate_rejected and conv.messages \
            and conv.messages[-1].role == "assistant" and not conv.messages[-1].tool_calls:
        verdict = rejected_verdict(conv)
        if verdict is not None:
            plan = [("replace", len(conv.messages) - 1)]
            # A new draw, not the cached answer that was just rejected: each round is its own cache entry.
            prev = conv.meta.get("regenerated")
            verdict["round"] = (prev.get("round", 1) if isinstance(prev, dict) else 0) + 1
    if not plan:
        problem = first_problem(conv)
        if problem is not None:
            out.rejects.append((conv, problem.code, problem.sentence(), {}))
        else:
            out.records.append(conv)
        return out
    out.generated = True
    out.action = "regenerated" if (verdict is not None or cfg.mode == "regenerate") else "filled"
    ident = generator.backend.identity()
    model, backend = str(ident.get("model", "")), str(ident.get("backend", generator.backend.name))
    msgs = list(conv.messages)
    shift = 0  # inserts move later original indices right
    steps: list[tuple[GenerationResult, Answer]] = []
    answers: list[list[Answer]] = []
    for action, i in plan:
        j = i + shift
        upto = msgs[:j] if action == "replace" else msgs[: j + 1]
        where = f"answer to turn {sum(1 for m in upto if m.role == 'user')}"
        try:
            req = GenerationRequest(request_messages(conv, upto, cfg), cfg.params, tag=conv.id,
                                    sample=verdict["round"] if verdict is not None else 0)
            result = await generator.call(req)
            choice_answers = [split_answer(c, cfg.think) for c in result.choices]
        except GenerationFailed as e:
            extra = {"error": str(e.error), "attempts": e.attempts}
            out.rejects.append((conv, e.error.code, f"{where}: request failed after {e.attempts} "
                                f"{'try' if e.attempts == 1 else 'tries'}: {e.error.message}", extra))
            return out
        except RowError as e:
            out.rejects.append((conv, e.code, f"{where}: {e.sentence()}", {}))
            return out
        if len(choice_answers) != cfg.params.n:
            out.rejects.append((conv, "malformed_response", f"{where}: asked for {cfg.params.n} choices, got "
                                f"{len(choice_answers)} (does the server support n?)", {}))
            return out
        first = choice_answers[0]
        if cfg.params.n == 1:
            bad = _check_answer(first, cfg, where)
            if bad is not None:
                out.rejects.append((conv, bad[0], bad[1], {"finish_reason": first.finish_reason}))
                return out
        new = Message("assistant", first.content, reasoning=first.reasoning)
        if action == "replace":
            new.weight = msgs[j].weight
            msgs[j] = new
        else:
            msgs.insert(j + 1, new)
            shift += 1
        steps.append((result, first))
        answers.append(choice_answers)
    samples = answers[-1]  # n > 1 only in fill mode: a single generated slot
    for k, ans in enumerate(samples):
        rec = conv.copy()
        rec.messages = list(msgs)
        if cfg.params.n > 1:
            bad = _check_answer(ans, cfg, f"sample {k}")
            rec.messages[-1] = Message("assistant", ans.content, reasoning=ans.reasoning)
            rec.id = f"{conv.id}.s{k}"
            if bad is not None:
                out.rejects.append((rec, bad[0], bad[1], {"finish_reason": ans.finish_reason}))
                continue
        gen = _generation_meta(model, backend, cfg, steps[:-1] + [(steps[-1][0], ans)])
        if cfg.params.n > 1:
            gen["sample"] = k
        rec.meta["generation"] = gen
        if verdict is not None:
            rec.meta["previous_answer"] = conv.messages[-1].content
            rec.meta["regenerated"] = verdict
            rec.meta.pop("rejected", None)
            rec.meta.pop("review", None)  # the reviewer judged the old answer, not this one
        rec.add_lineage(f"distill:{cfg.mode}" + (":regenerated" if verdict is not None else ""))
        problem = first_problem(rec)
        if problem is not None and not (ans.truncated and problem.code == "empty_content"):
            out.rejects.append((rec, problem.code, f"after generation: {problem.sentence()}", {}))
            continue
        out.records.append(rec)
    return out
