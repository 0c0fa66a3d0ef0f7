"""`PracticeFacts`: what the data checks need, accumulated record by record in one pass.

Memory is bounded apart from the near-duplicate signatures (the same ~0.6 KB a record as
`curate dedup` and the report keep): counters stop adding keys past a limit (`TopCounter`), and
texts are kept only as short samples of the first few system prompts.

Definitions:
- *label*: ``meta.<label_field>`` when present, else the final answer when it is short (at most
  `LABEL_CHARS` characters, one line), lower-cased with trailing punctuation removed.
- *answer format*: ``json`` when the final answer (a single ```json fence allowed) parses as a
  JSON object or array, else ``prose``.
- *task group* (for the output-format check): ``meta.task`` when present, else the system
  prompt, else one group of untagged records.
- *quality score*: the mean of the record's numeric ``meta.scores`` (as `curate dedup --keep
  best-score` ranks them).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import orjson
import xxhash

from curator.dedup import record_score
from curator.filters.structure import _strip_fence
from curator.practice.config import PracticeConfig
from curator.record import Conversation
from curator.report.accum import LogHistogram, TopCounter
from curator.tokencount import estimate_tokens, record_text_parts

LABEL_CHARS = 40
_SAMPLES = 50  # system prompts whose first characters are kept to show
_TRAIL = re.compile(r"[\s.。!！?？,，;；:：]+$")
# Phrases that mark a prompt carrying reference material (RAG / reading comprehension), and phrases
# that mark copywriting / scripts / creative writing. Plain substring tests on the lower-cased
# start of the prompt: ~20x faster than one alternation regex with re.I.
_REFERENCE = ("参考", "资料", "根据以下", "根据下面", "已知信息", "上下文", "文档", "原文", "阅读", "context",
              "reference", "based on the following", "based on the passage", "based on the text",
              "according to the", "passage:", "document:")
_CREATIVE = ("文案", "脚本", "广告", "标语", "口播", "种草", "小红书", "写一篇", "写一首", "写一段", "创作", "故事",
             "诗", "slogan", "tagline", "copywrit", "advert", "script", " poem", " story", "ad copy",
             "product description")


_REFERENCE_ASCII = tuple(p for p in _REFERENCE if p.isascii())
_CREATIVE_ASCII = tuple(p for p in _CREATIVE if p.isascii())


def _mentions(text: str, phrases: tuple[str, ...], ascii_phrases: tuple[str, ...]) -> bool:
    if text.isascii():  # a Chinese phrase cannot occur in ASCII text: test the others only
        phrases = ascii_phrases
    for p in phrases:  # a plain loop: `any()` over a generator costs as much as the tests themselves
        if p in text:
            return True
    return False


def answer_format(text: str) -> str:
    t = _strip_fence(text)
    if t[:1] in "{[":
        try:
            v = orjson.loads(t)
        except orjson.JSONDecodeError:
            return "prose"
        return "json" if isinstance(v, (dict, list)) else "prose"
    return "prose"


def json_object(text: str) -> dict[str, Any] | None:
    t = _strip_fence(text)
    if not t.startswith("{"):
        return None
    try:
        v = orjson.loads(t)
    except orjson.JSONDecodeError:
        return None
    return v if isinstance(v, dict) else None


def label_of(conv: Conversation, field: str) -> str | None:
    v = conv.meta.get(field)
    if isinstance(v, (str, int)) and not isinstance(v, bool):
        return str(v)
    last = conv.last("assistant")
    if last is None:
        return None
    t = last.content.strip()
    if not t or len(t) > LABEL_CHARS or "\n" in t:
        return None
    return _TRAIL.sub("", t.lower()) or t


class PracticeFacts:
    """Streaming accumulator for the data checks. `near`: a `NearDupCounter` to share with the
    report (so the records are sketched once); by default one of its own."""

    def __init__(self, cfg: PracticeConfig | None = None, near: Any = None) -> None:
        from curator.report.profile import NearDupCounter

        self.cfg = cfg or PracticeConfig()
        self.records = 0
        self.sources = TopCounter()
        self.system = TopCounter(limit=1000)  # hash of the system prompt ("" = none) -> records
        self.system_sample: dict[str, str] = {}
        self.with_reasoning = 0
        self.formats: dict[str, Counter[str]] = {}  # task group -> {json, prose}
        self.format_groups: float = 1000  # at most this many task groups are told apart
        self.labels = TopCounter(limit=10_000)
        self.labelled = 0
        self.json_answers = 0  # answers that are JSON objects
        self.answers = 0
        self.keys = TopCounter(limit=1000)  # top-level keys of JSON-object answers
        self.schema_missing: Counter[str] = Counter()  # schema field -> JSON answers without it
        self.task_tags = TopCounter(limit=100)
        self.reference_prompts = 0
        self.creative_prompts = 0
        self.prompt_chars = 0
        self.answer_chars = 0
        self.multi_turn = 0
        self.tool_calling = 0
        self.scored = 0
        self.score_sum = 0.0
        self.low_scored = 0
        self.tokens = LogHistogram()  # estimated tokens per record
        self.near = near if near is not None else NearDupCounter()
        self._own_near = near is None
        self._low_score = self.cfg.t("data_size")["low_score"]

    def add(self, conv: Conversation) -> None:
        self.records += 1
        meta = conv.meta
        self.sources.add(str(meta.get("source", "(none)")))
        sys_msg = next((m.content for m in conv.messages if m.role == "system"), None)
        key = "" if sys_msg is None else xxhash.xxh3_64_hexdigest(sys_msg.strip().encode("utf-8", "surrogatepass"))
        self.system.add(key)
        if key and key not in self.system_sample and len(self.system_sample) < _SAMPLES:
            self.system_sample[key] = sys_msg.strip()[:80]
        if any(m.reasoning for m in conv.messages):
            self.with_reasoning += 1
        task = meta.get("task")
        if isinstance(task, str) and task:
            self.task_tags.add(task)
        users = [m.content for m in conv.messages if m.role == "user"]
        self.multi_turn += len(users) > 1
        self.tool_calling += bool(conv.tools) or any(m.tool_calls or m.role == "tool" for m in conv.messages)
        prompt = "\n".join(users)
        self.prompt_chars += len(prompt)
        head = prompt[:1000].lower()
        self.reference_prompts += _mentions(head, _REFERENCE, _REFERENCE_ASCII)
        self.creative_prompts += _mentions(head[:300], _CREATIVE, _CREATIVE_ASCII)
        self.tokens.add(sum(estimate_tokens(t) for t in record_text_parts(conv)))
        last = conv.last("assistant")
        if last is not None and last.content.strip():
            self.answers += 1
            self.answer_chars += len(last.content)
            fmt = answer_format(last.content)
            group = str(task) if isinstance(task, str) and task else (f"system:{key}" if key else "(untagged)")
            if group in self.formats or len(self.formats) < self.format_groups:
                self.formats.setdefault(group, Counter())[fmt] += 1
            obj = json_object(last.content) if fmt == "json" else None
            if obj is not None:
                self.json_answers += 1
                for k in obj:
                    self.keys.add(str(k))
                for f in self.cfg.schema or ():
                    if f not in obj:
                        self.schema_missing[f] += 1
        label = label_of(conv, self.cfg.label_field)
        if label is not None:
            self.labelled += 1
            self.labels.add(label)
        score = record_score(conv, None)
        if score != float("-inf"):
            self.scored += 1
            self.score_sum += score
            self.low_scored += score < self._low_score
        if self._own_near:
            self.near.add(conv)

    def merge(self, other: "PracticeFacts") -> None:
        """Add the counts of the records that follow ours in the file (`curate report` counts byte
        ranges in worker processes). The near-duplicate sketches are the report's and merge there."""
        for name in ("records", "with_reasoning", "labelled", "json_answers", "answers", "reference_prompts",
                     "creative_prompts", "prompt_chars", "answer_chars", "multi_turn", "tool_calling", "scored",
                     "score_sum", "low_scored"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("sources", "system", "labels", "keys", "task_tags", "tokens"):
            getattr(self, name).merge(getattr(other, name))
        self.schema_missing.update(other.schema_missing)
        for key, text in other.system_sample.items():  # the first _SAMPLES system prompts in file order
            if key not in self.system_sample and len(self.system_sample) < _SAMPLES:
                self.system_sample[key] = text
        for group, c in other.formats.items():  # the same cap as `add`, keys in first-seen order
            if group in self.formats or len(self.formats) < self.format_groups:
                self.formats.setdefault(group, Counter()).update(c)

    def uncap(self) -> None:
        """Count every key (no caps): a worker's part, merged into a capped total by `merge`."""
        for c in (self.sources, self.system, self.labels, self.keys, self.task_tags):
            c.limit = math.inf
        self.format_groups = math.inf

    def near_result(self) -> dict[str, Any]:
        """Duplicates and conflict groups as `curate dedup` (default settings) would find them;
        with ``sample`` = (records sketched, records) when the report sketched a sample only."""
        res = self.near.practice_result()
        sketched = len(self.near.ordinals)
        if sketched < self.records:
            res["sample"] = (sketched, self.records)
        return res

    def share(self, x: int) -> float:
        return x / self.records if self.records else 0.0
