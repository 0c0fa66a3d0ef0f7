"""LLM-as-judge rubrics: a rubric file (YAML, or Markdown with YAML front-matter whose body is
the prompt) rendered into a judge request, sent through a chat backend, parsed strictly.

The judge does not own an HTTP client: it is handed a `ChatFn` built on the project's
generation layer (backends, cache, retries), so judge calls are cached and resumable like any
other generation. Templates are rendered by a sandboxed Jinja environment — a rubric file is
data, never code.

Unparseable verdicts are asked again (`retries` times, at `retry_temperature` with a new sample
index so the cache does not hand back the same bad answer), then recorded with status
"unparseable" and no value.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol, Sequence

from curator.record import Conversation, Message
from rubrics.base import ERROR, UNPARSEABLE, Rubric, Score, reference_of
from rubrics.judge_parse import Verdict, combine_pair, parse_pair, parse_rating

SHIPPED = Path(__file__).resolve().parent
FORMATS = ("mt_bench", "prometheus", "pairwise")


class ChatFn(Protocol):
    """One judge request -> the judge's reply text. `sample` distinguishes retries (cache key)."""

    def __call__(self, messages: list[dict[str, str]], *, sample: int, temperature: float) -> Awaitable[str]: ...


class RubricFileError(ValueError):
    """A rubric file is malformed (a usage error: exit 2 with this message)."""


@dataclass
class JudgeSpec:
    name: str
    format: str
    prompt: str
    system: str | None = None
    scale: tuple[float, float] = (1.0, 10.0)
    pass_at: float | None = None
    needs_reference: bool = False
    criterion: str = ""
    score_descriptions: dict[Any, str] = field(default_factory=dict)
    path: str = ""

    @property
    def pairwise(self) -> bool:
        return self.format == "pairwise"


def resolve_rubric_path(ref: str) -> Path | None:
    """A path as given, or the name of a shipped rubric (`helpfulness` -> rubrics/helpfulness.yaml)."""
    p = Path(ref)
    if p.is_file():
        return p
    for ext in (".yaml", ".yml", ".md"):
        q = SHIPPED / f"{ref}{ext}"
        if q.is_file():
            return q
    return None


def shipped_judges() -> list[str]:
    return sorted(p.stem for p in SHIPPED.iterdir() if p.suffix in (".yaml", ".yml", ".md"))


def load_judge_file(path: str | Path) -> JudgeSpec:
    import yaml

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    body = None
    if path.suffix == ".md":
        if not text.startswith("---"):
            raise RubricFileError(f"{path}: a Markdown rubric starts with YAML front-matter between --- lines")
        _, front, body = text.split("---", 2) if text.count("---") >= 2 else (None, None, None)
        if front is None:
            raise RubricFileError(f"{path}: front-matter is not closed by a --- line")
        text = front
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RubricFileError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise RubricFileError(f"{path}: expected a mapping of rubric fields")
    prompt = (body.strip("\n") + "\n") if body is not None else data.get("prompt")
    fmt = data.get("format", "mt_bench")
    if fmt not in FORMATS:
        raise RubricFileError(f"{path}: format {fmt!r} — choose one of {', '.join(FORMATS)}")
    if not prompt:
        raise RubricFileError(f"{path}: no prompt (a `prompt:` field, or the Markdown body)")
    scale = data.get("scale", [1, 10] if fmt != "prometheus" else [1, 5])
    if not (isinstance(scale, list) and len(scale) == 2 and scale[0] < scale[1]):
        raise RubricFileError(f"{path}: scale must be [low, high], e.g. [1, 10]")
    return JudgeSpec(
        name=str(data.get("name") or path.stem), format=fmt, prompt=prompt, system=data.get("system"),
        scale=(float(scale[0]), float(scale[1])), pass_at=data.get("pass_at"),
        needs_reference=bool(data.get("needs_reference", False)), criterion=data.get("criterion", ""),
        score_descriptions=dict(data.get("score_descriptions") or {}), path=str(path),
    )


def _env():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


def _question(conv: Conversation) -> str:
    """The prompt as the judge sees it: a single user turn as is, a dialogue as labelled turns."""
    msgs = [m for m in conv.prompt_messages() if m.role in ("system", "user", "assistant")]
    users = [m for m in msgs if m.role == "user"]
    if len(msgs) == 1 or (len(users) == 1 and len(msgs) <= 2 and msgs[-1].role == "user" and msgs[0].role == "system"):
        return users[0].content if users else msgs[0].content
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in msgs)


def _explanation(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class JudgeRubric(Rubric):
    def __init__(self, spec: JudgeSpec, chat: ChatFn | None = None, *, retries: int = 2,
                 retry_temperature: float = 0.7, concurrency: int = 16):
        self.spec = spec
        self.name = spec.name
        self.chat = chat
        self.retries = retries
        self.retry_temperature = retry_temperature
        self.range = None if spec.pairwise else spec.scale
        self._template = _env().from_string(spec.prompt)
        self._sem: asyncio.Semaphore | None = None
        self._concurrency = concurrency
        self.calls = 0

    # -- rendering ---------------------------------------------------------------------------
    def render(self, conv: Conversation, **answers: str) -> list[dict[str, str]]:
        lo, hi = self.spec.scale
        ctx = dict(question=_question(conv), reference=reference_of(conv) or "", criterion=self.spec.criterion,
                   score_descriptions=self.spec.score_descriptions, lo=int(lo) if lo == int(lo) else lo,
                   hi=int(hi) if hi == int(hi) else hi, **answers)
        msgs = []
        if self.spec.system:
            msgs.append({"role": "system", "content": self.spec.system.strip()})
        msgs.append({"role": "user", "content": self._template.render(**ctx)})
        return msgs

    # -- asking ------------------------------------------------------------------------------
    async def _ask(self, messages: list[dict[str, str]], parse: Callable[[str], Verdict]) -> tuple[Verdict, str, str]:
        """Ask until a verdict parses or retries run out -> (verdict, reply text, status)."""
        if self.chat is None:
            raise RuntimeError(f"judge rubric {self.name!r} needs a backend (--judge-base-url / --judge-model)")
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._concurrency)
        reasons = []
        text = ""
        for attempt in range(self.retries + 1):
            temperature = 0.0 if attempt == 0 else self.retry_temperature
            try:
                async with self._sem:
                    self.calls += 1
                    text = await self.chat(messages, sample=attempt, temperature=temperature)
            except Exception as e:  # the backend already retried transport errors; this is final
                return Verdict(None, f"judge request failed: {type(e).__name__}: {e}"), "", ERROR
            v = parse(text)
            if v.ok:
                return v, text, "ok"
            reasons.append(v.reason)
        return Verdict(None, "; ".join(dict.fromkeys(reasons))), text, UNPARSEABLE

    async def _single(self, conv: Conversation, cand: Message) -> Score:
        if self.spec.needs_reference and reference_of(conv) is None:
            return Score.failed(ERROR, f"{self.name} needs a reference answer in meta.reference")
        lo, hi = self.spec.scale
        v, text, status = await self._ask(self.render(conv, answer=cand.content),
                                          lambda t: parse_rating(t, self.spec.format, lo, hi))
        if not v.ok:
            return Score.failed(status, f"{v.reason} after {self.retries + 1} attempts; last reply: {_explanation(text, 160)}")
        value = float(v.value)
        passed = value >= self.spec.pass_at if self.spec.pass_at is not None else True
        return Score(value, passed, _explanation(text))

    async def judge_pair(self, conv: Conversation, x: str, y: str) -> Verdict:
        """'x', 'y' or 'tie' with both orders asked (position bias cancels)."""
        first, second = await asyncio.gather(
            self._ask(self.render(conv, answer_a=x, answer_b=y), parse_pair),
            self._ask(self.render(conv, answer_a=y, answer_b=x), parse_pair))
        return combine_pair(first[0], second[0])

    async def _pairwise(self, conv: Conversation, cands: Sequence[Message]) -> list[Score]:
        """Round robin: each candidate's value is its win rate (ties count half) over the others;
        a single candidate is compared with meta.reference instead."""
        texts = [c.content for c in cands]
        if len(texts) == 1:
            ref = reference_of(conv)
            if ref is None:
                return [Score.failed(ERROR, "pairwise judging of one answer needs meta.reference to compare with")]
            v = await self.judge_pair(conv, texts[0], ref)
            if not v.ok:
                return [Score.failed(UNPARSEABLE, v.reason)]
            val = {"x": 1.0, "tie": 0.5, "y": 0.0}[v.value]
            return [Score(val, val >= 0.5, f"vs reference: {v.value} ({v.reason})")]
        pairs = [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))]
        verdicts = await asyncio.gather(*(self.judge_pair(conv, texts[i], texts[j]) for i, j in pairs))
        wins = [0.0] * len(texts)
        games = [0] * len(texts)
        notes: list[list[str]] = [[] for _ in texts]
        for (i, j), v in zip(pairs, verdicts):
            if not v.ok:
                notes[i].append(f"vs #{j}: unparseable")
                notes[j].append(f"vs #{i}: unparseable")
                continue
            games[i] += 1
            games[j] += 1
            wi = {"x": 1.0, "tie": 0.5, "y": 0.0}[v.value]
            wins[i] += wi
            wins[j] += 1.0 - wi
            notes[i].append(f"vs #{j}: {'win' if wi == 1 else 'tie' if wi == 0.5 else 'loss'}")
            notes[j].append(f"vs #{i}: {'win' if wi == 0 else 'tie' if wi == 0.5 else 'loss'}")
        out = []
        for k in range(len(texts)):
            if games[k] == 0:
                out.append(Score.failed(UNPARSEABLE, "; ".join(notes[k])))
            else:
                rate = wins[k] / games[k]
                out.append(Score(rate, rate >= 0.5, f"win rate {rate:.2f} over {games[k]} comparisons: " + "; ".join(notes[k])))
        return out

    async def ascore_group(self, conv: Conversation, candidates: Sequence[Message]) -> list[Score]:
        if self.spec.pairwise:
            return await self._pairwise(conv, candidates)
        return list(await asyncio.gather(*(self._single(conv, c) for c in candidates)))

    def score_group(self, conv: Conversation, candidates: Sequence[Message]) -> list[Score]:
        self._sem = None  # a semaphore belongs to one event loop; each asyncio.run gets its own
        return asyncio.run(self.ascore_group(conv, candidates))

    def score_batch(self, items: Sequence[tuple[Conversation, Message]]) -> list[Score]:
        async def _all():
            return await asyncio.gather(*(self.ascore_group(c, [m]) for c, m in items))
        self._sem = None
        return [s[0] for s in asyncio.run(_all())]
