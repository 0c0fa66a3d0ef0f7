"""`DatasetProfile`: everything the report shows, accumulated record by record in one pass.

Definitions (also shown in the HTML):
- *instruction*: the first user message (the Alpaca/Self-Instruct view of "the task").
- *multi-turn*: more than one user message. *tool-calling*: `tools` declared, an assistant
  `tool_calls`, or a `tool` message.
- *first word*: lower-cased first word of the instruction for Latin-script text; for Chinese the
  first word of a real segmentation (jieba, when installed: ``pip install sft-curator[zh]``; else
  the first 2 characters), so "写一首诗" counts under "写", "解释…" under "解释" (the Alpaca
  paper's verb-noun view, simplified: the first word usually is the verb).
- *language*: the record's prompt language by `curator.langid`, as `curate filter --lang` decides
  it (see `curator.report.lang`); ``und`` when unknown.
- *chars per role*: assistant turns that only call tools (no text) are left out of the assistant
  length histogram and counted as ``tool_call_turns``, so they do not read as empty answers.
- *distinct-n*: distinct n-grams / total n-grams over all instructions (words for Latin text,
  single characters for CJK). Estimated by KMV sketches above 4096 distinct n-grams.
- *exact duplicates*: records whose normalised text (lower case, whitespace collapsed, all
  messages) equals an earlier record's; *duplicate instructions* likewise for the instruction.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Callable

import numpy as np
import xxhash

from curator.record import Conversation
from curator.report.accum import Distinct, HashLog, LogHistogram, TopCounter, ValueHistogram
from curator.report.lang import record_language
from curator.report.sampling import PromptSample

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_FIRST_LATIN = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_WS = re.compile(r"\s+")
_MAX_TURNS_BIN = 20


_M64 = (1 << 64) - 1


def _mix(a: int, b: int) -> int:
    """Combine two 64-bit hashes into one (order matters), staying roughly uniform."""
    x = ((a * 0x9E3779B97F4A7C15) ^ b) & _M64
    x ^= x >> 31
    x = (x * 0xBF58476D1CE4E5B9) & _M64
    return x ^ (x >> 29)


_C1, _C2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)
_S31, _S29 = np.uint64(31), np.uint64(29)


def _mix_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`_mix` element-wise on uint64 arrays (uint64 arithmetic wraps exactly like `& _M64`)."""
    x = (a * _C1) ^ b
    x ^= x >> _S31
    x = x * _C2
    return x ^ (x >> _S29)


def ngram_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_jieba: Any = None


def _segment_first(text: str) -> str | None:
    """First word of a Chinese text by jieba, or None when jieba is not installed."""
    global _jieba
    if _jieba is None:
        try:
            import logging

            import jieba  # optional: pip install sft-curator[zh]

            jieba.setLogLevel(logging.WARNING)  # its dictionary-loading notice is not ours to print
            _jieba = jieba
        except ImportError:
            _jieba = False
    if _jieba is False:
        return None
    for w in _jieba.cut(text[:64]):
        if w.strip():
            return w
    return None


def first_word(text: str) -> str:
    t = text.strip()
    if not t:
        return "(empty)"
    if _HAN_RUN.match(t[0]):
        return _segment_first(t) or t[:2]
    if re.match(rf"[{_CJK}]", t[0]):  # kana / Hangul: no segmenter here
        return t[:2]
    m = _FIRST_LATIN.match(t)
    if m:
        return m.group(0).lower()
    return "(symbol)" if not t[0].isalnum() else t.split()[0][:12]


def normalise(text: str) -> str:
    # Same as `_WS.sub(" ", text.lower()).strip()` (re's \s and str.split both use str.isspace),
    # without a regex pass over every message.
    return " ".join(text.lower().split())


class NearDupCounter:
    """Near-duplicate rate with the same machinery and default threshold as `curate dedup`
    (MinHash-LSH on character shingles of prompt + answer), so the report and dedup agree. Keeps
    only signatures (about 0.6 KB a record), never the texts. Records are numbered by `ordinal`
    (1-based among the records described), so a sample still names the right records."""

    def __init__(self, batch_size: int = 4096) -> None:
        from curator.dedup import DedupConfig, Sketches

        self.cfg = DedupConfig()
        self.sk = Sketches()
        self.batch: list[tuple[str, str]] = []
        self.batch_size = batch_size
        self.ordinals: list[int] = []
        self._plan: tuple[int, Any] | None = None

    def add(self, conv: Conversation, ordinal: int | None = None) -> None:
        from curator.dedup import record_texts

        self.batch.append(record_texts(conv))
        self.ordinals.append(len(self.ordinals) + 1 if ordinal is None else ordinal)
        if len(self.batch) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        import math

        from curator.dedup import sketch_batch

        if not self.batch:
            return
        start = len(self.sk)
        self.sk.add(sketch_batch(self.batch, self.cfg.minhash), [str(start + i) for i in range(len(self.batch))],
                    [None] * len(self.batch), [len(p) + len(a) for p, a in self.batch], [-math.inf] * len(self.batch))
        self.batch = []

    def merge(self, other: "NearDupCounter", offset: int) -> None:
        """Append a later part's sketches; `offset`: records described before that part."""
        self._flush()
        other._flush()
        start = len(self.sk)
        for part in other.sk._parts:
            self.sk._parts.append(part)
        self.sk.ids.extend(str(start + i) for i in range(len(other.sk)))
        self.sk.origins.extend(other.sk.origins)
        self.sk._lengths.extend(other.sk._lengths)
        self.sk._scores.extend(other.sk._scores)
        self.ordinals.extend(o + offset for o in other.ordinals)
        self._plan = None

    def plan(self) -> Any:
        """The dedup plan over every record added so far (computed once; the practice checks reuse it)."""
        from curator.dedup import plan

        self._flush()
        if self._plan is None or self._plan[0] != len(self.sk):
            self._plan = (len(self.sk), plan(self.sk, self.cfg))
        return self._plan[1]

    def practice_result(self) -> dict[str, Any]:
        """Duplicates (exact + near) and conflict groups, for `curator.practice`."""
        if len(self.sk) == 0 and not self.batch:
            return {"duplicates": 0, "conflict_groups": 0, "threshold": self.cfg.threshold}
        p = self.plan()
        c = p.counts()
        o = self.ordinals
        return {"duplicates": c.get("near_duplicate", 0) + c.get("duplicate", 0), "conflict_groups": len(p.conflicts),
                "threshold": self.cfg.threshold,  # examples: n-th record described (1-based), first 5 groups
                "duplicate_examples": [[o[i] for i in cl] for cl in p.clusters[:5]],
                "conflict_examples": [[o[i] for i in g["members"]] for g in p.conflicts[:5]]}

    def result(self, share: Callable[[int], float]) -> dict[str, Any]:
        self._flush()
        if len(self.sk) == 0:
            return {"near_records": 0, "near_record_rate": 0.0, "near_threshold": self.cfg.threshold}
        counts = self.plan().counts()
        # What `curate dedup` would drop: normalised-exact and near duplicates together.
        near = counts.get("near_duplicate", 0) + counts.get("duplicate", 0)
        return {"near_records": near, "near_record_rate": share(near), "near_threshold": self.cfg.threshold}


def sample_note(n: int, m: int) -> dict[str, Any]:
    """What the report says about figures estimated from a sample (JSON; the page shows `note`)."""
    return {"records": n, "of": m, "figures": list(SAMPLED_FIGURES),
            "note": f"estimated from {n:,} of {m:,} records", "note_zh": f"由 {m:,} 条中的 {n:,} 条估算"}


# The figures computed on the sample (`curator.report.sampling` says why these and not others).
SAMPLED_FIGURES = ("languages", "duplicates.near_records", "diversity", "practice.duplicates", "practice.conflicts",
                   "semantic")


class DatasetProfile:
    def __init__(self, count_tokens: Callable[[str], int] | None = None) -> None:
        self.count_tokens = count_tokens
        self.records = 0
        self.turns: Counter[int] = Counter()
        self.roles: Counter[str] = Counter()
        self.chars = {r: LogHistogram() for r in ("system", "user", "assistant", "tool")}
        self.tokens = {r: LogHistogram() for r in ("system", "user", "assistant", "tool")}
        self.record_chars = LogHistogram()
        self.multi_turn = 0
        self.tool_calling = 0
        self.with_system = 0
        self.no_answer = 0
        self.tool_call_turns = 0
        self.languages: Counter[str] = Counter()
        self.sources = TopCounter()
        self.tags = TopCounter()
        self.first_words = TopCounter(limit=50_000)
        self.ngrams = {n: Distinct() for n in (1, 2, 3)}
        self.ngram_totals = {n: 0 for n in (1, 2, 3)}
        self.dup_records = HashLog()
        self.near_dups = NearDupCounter()
        self.dup_instructions = HashLog()
        self.with_reasoning = 0
        self.reasoning_chars = LogHistogram()
        self.reasoning_tokens = LogHistogram()
        self.reasoning_empty_answer = 0
        self.scores: dict[str, ValueHistogram] = {}
        self.finish_reasons: Counter[str] = Counter()
        self.usage: dict[str, LogHistogram] = {}
        self.generated = 0
        self.sampled = 0  # records in the sample (all of them unless `describe` samples)
        self.prompts = PromptSample()  # prompts of sampled records, for the semantic section
        self.prompt_records = 0  # records the semantic section counts (all but no_final_answer ones)

    # ------------------------------------------------------------------------------- one record
    def add(self, conv: Conversation, sampled: bool = True) -> None:
        """Count one record; `sampled`: it is in the sample the costly figures (language, near
        duplicates, diversity, semantic prompts) are estimated from — every record when nothing
        is sampled (`curator.report.sampling`)."""
        self.records += 1
        msgs = conv.messages
        self.turns[min(len(msgs), _MAX_TURNS_BIN)] += 1
        users = 0
        total_chars = 0
        reasoning_chars = 0
        reasoning_tokens = 0
        has_tool = bool(conv.tools)
        system = False
        roles, chars = self.roles, self.chars
        for m in msgs:
            role = m.role
            roles[role] += 1
            n = len(m.content)
            total_chars += n
            if m.tool_calls:
                has_tool = True
                if not n:
                    self.tool_call_turns += 1  # a call, not an empty answer: kept out of the length bins
            if (n or not m.tool_calls) and role in chars:
                chars[role].add(n)
                if self.count_tokens:
                    self.tokens[role].add(self.count_tokens(m.content))
            if role == "user":
                users += 1
            elif role == "tool":
                has_tool = True
            elif role == "system":
                system = True
            if m.reasoning:
                reasoning_chars += len(m.reasoning)
                if self.count_tokens:
                    reasoning_tokens += self.count_tokens(m.reasoning)
        self.record_chars.add(total_chars)
        self.multi_turn += users > 1
        self.tool_calling += has_tool
        self.with_system += system
        last = conv.last("assistant")
        self.no_answer += last is None
        if reasoning_chars:
            self.with_reasoning += 1
            self.reasoning_chars.add(reasoning_chars)
            if self.count_tokens:
                self.reasoning_tokens.add(reasoning_tokens)
            if last is not None and not last.content.strip():
                self.reasoning_empty_answer += 1

        instruction = next((m.content for m in msgs if m.role == "user"), "")
        # the semantic section reads records as `curate distill` would: a conversation that ends on
        # an unanswered turn (allowed here as no_final_answer) is not among its prompts
        prompt_record = not (msgs and msgs[-1].role in ("user", "tool") and any(m.role == "assistant" for m in msgs))
        self.prompt_records += prompt_record
        if sampled:
            self._add_sampled(conv, instruction, prompt_record)
        normal = [normalise(m.content) for m in msgs]
        # the instruction is the first user message: its normal form is already in `normal`
        self.dup_instructions.add(next((t for m, t in zip(msgs, normal) if m.role == "user"), ""))
        self.dup_records.add("\x1e".join(f"{m.role}\x1f{t}" for m, t in zip(msgs, normal)))

        meta = conv.meta
        self.sources.add(str(meta.get("source", "(none)")))
        tags = meta.get("tags")
        if isinstance(tags, str):
            tags = [tags]
        if isinstance(tags, list):
            for t in tags:
                self.tags.add(str(t))
        scores = meta.get("scores")
        if isinstance(scores, dict):
            for k, v in scores.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    self.scores.setdefault(str(k), ValueHistogram()).add(float(v))
        self._add_generation(meta.get("generation"))

    def _add_sampled(self, conv: Conversation, instruction: str, prompt_record: bool) -> None:
        msgs = conv.messages
        self.sampled += 1
        self.first_words.add(first_word(instruction))
        # hash each token once and combine the hashes into n-gram hashes (a multiply-xor mix,
        # then a final xxhash-quality scramble is unnecessary: KMV only needs roughly uniform bits)
        # (`_mix_arrays` is `_mix` on numpy uint64 arrays: the same integers, without a Python call each.)
        toks = ngram_tokens(instruction)
        hs = np.fromiter((xxhash.xxh3_64_intdigest(t.encode("utf-8", "surrogatepass")) for t in toks),
                         dtype=np.uint64, count=len(toks))
        prev = hs
        for n, sketch in self.ngrams.items():
            if n > 1:
                size = max(0, min(len(prev), len(hs) - n + 1))
                prev = _mix_arrays(prev[:size], hs[n - 1:n - 1 + size])
            sketch.add_hashes(prev)
            self.ngram_totals[n] += len(prev)

        self.languages[record_language("\n".join(m.content for m in msgs if m.role == "user"), conv.answer_text())] += 1
        self.near_dups.add(conv, self.records)
        if prompt_record:
            self.prompts.add(conv.id, conv.prompt_text())

    def uncap(self) -> None:
        """Count every key (no cap): a worker's part, merged into a capped total (`TopCounter.merge`)."""
        for c in (self.sources, self.tags, self.first_words):
            c.limit = math.inf

    def prompt_sample(self) -> tuple[list[str], list[str], int]:
        """(ids, prompts, records) for `curator.report.diversity.semantic_diversity`."""
        ids, texts, _ = self.prompts.result()
        return ids, texts, self.prompt_records

    def merge(self, other: "DatasetProfile") -> None:
        """Add the counts of the records that follow ours in the file (see `accum`)."""
        offset = self.records
        for name in ("records", "multi_turn", "tool_calling", "with_system", "no_answer", "tool_call_turns",
                     "with_reasoning", "reasoning_empty_answer", "generated", "sampled", "prompt_records"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("turns", "roles", "languages", "finish_reasons"):
            getattr(self, name).update(getattr(other, name))
        for name in ("chars", "tokens"):
            for role, h in getattr(other, name).items():
                getattr(self, name)[role].merge(h)
        for name in ("record_chars", "reasoning_chars", "reasoning_tokens", "sources", "tags", "first_words",
                     "dup_records", "dup_instructions"):
            getattr(self, name).merge(getattr(other, name))
        for n, sketch in other.ngrams.items():
            self.ngrams[n].merge(sketch)
            self.ngram_totals[n] += other.ngram_totals[n]
        for name, acc in (("scores", ValueHistogram), ("usage", LogHistogram)):
            mine = getattr(self, name)
            for key, h in getattr(other, name).items():
                mine.setdefault(key, acc()).merge(h)
        self.near_dups.merge(other.near_dups, offset)
        self.prompts.merge(other.prompts)

    def _add_generation(self, gen: Any) -> None:
        items = gen if isinstance(gen, list) else [gen] if isinstance(gen, dict) else []
        for g in items:
            if not isinstance(g, dict):
                continue
            self.generated += 1
            fr = g.get("finish_reason")
            if fr is not None:
                self.finish_reasons[str(fr)] += 1
            usage = g.get("usage") if isinstance(g.get("usage"), dict) else g
            for key in ("prompt_tokens", "completion_tokens", "reasoning_tokens", "total_tokens"):
                v = usage.get(key)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    self.usage.setdefault(key, LogHistogram()).add(float(v))

    # --------------------------------------------------------------------------------- result
    def to_dict(self) -> dict[str, Any]:
        n = self.records or 1
        share = lambda x: round(x / n, 4) if self.records else 0.0  # noqa: E731
        ns = self.sampled or 1
        sample_share = lambda x: round(x / ns, 4) if self.sampled else 0.0  # noqa: E731
        d: dict[str, Any] = {
            "records": self.records,
            "turns_per_record": {(f"{k}+" if k == _MAX_TURNS_BIN else str(k)): v for k, v in sorted(self.turns.items())},
            "mean_turns": round(sum(k * v for k, v in self.turns.items()) / n, 3) if self.records else 0,
            "roles": dict(self.roles.most_common()),
            "multi_turn": self.multi_turn, "multi_turn_share": share(self.multi_turn),
            "tool_calling": self.tool_calling, "tool_calling_share": share(self.tool_calling),
            "with_system": self.with_system, "with_system_share": share(self.with_system),
            "no_answer": self.no_answer,
            "tool_call_turns": self.tool_call_turns,
            "chars_per_role": {r: h.summary() for r, h in self.chars.items() if h.n},
            "chars_per_record": self.record_chars.summary(),
            "languages": dict(self.languages.most_common()),
            "sources": dict(self.sources.top(30)),
            "tags": dict(self.tags.top(30)),
            "reasoning": {
                "with": self.with_reasoning, "without": self.records - self.with_reasoning,
                "share": share(self.with_reasoning),
                "mixed": 0 < self.with_reasoning < self.records,
                "empty_answer_after_reasoning": self.reasoning_empty_answer,
                "chars": self.reasoning_chars.summary(),
            },
            "diversity": {
                **{f"distinct_{k}": round(self.ngrams[k].estimate() / self.ngram_totals[k], 4)
                   if self.ngram_totals[k] else 0.0 for k in self.ngrams},
                "distinct_estimated": any(s.is_estimate for s in self.ngrams.values()),
                "first_words": self.first_words.top(25),
                "distinct_first_words": len(self.first_words.counts),
            },
            "duplicates": {
                "exact_records": self.dup_records.duplicates(),
                "exact_record_rate": share(self.dup_records.duplicates()),
                "instructions": self.dup_instructions.duplicates(),
                "instruction_rate": share(self.dup_instructions.duplicates()),
                **self.near_dups.result(sample_share),
            },
        }
        if self.sampled < self.records:
            d["sample"] = sample_note(self.sampled, self.records)
        if self.count_tokens:
            d["tokens_per_role"] = {r: h.summary() for r, h in self.tokens.items() if h.n}
            d["reasoning"]["tokens"] = self.reasoning_tokens.summary()
        if self.scores:
            d["scores"] = {k: h.summary() for k, h in sorted(self.scores.items())}
        if self.generated:
            d["generation"] = {"records": self.generated, "finish_reasons": dict(self.finish_reasons.most_common()),
                               "usage": {k: h.summary() for k, h in self.usage.items()}}
        return d
