"""Answer content: refusals/boilerplate phrases and degenerate repetition.

Refusals: a phrase list in English and Chinese, matched case-insensitively near the start of
the answer (where refusals and "As an AI language model" disclaimers live; a long answer that
says "我无法确定" in paragraph five is usually fine). `action: tag` keeps the record and adds
`refusal` to `meta.tags`, for sets that want refusals on purpose (safety data). A decline that
goes on to help ("I can't book flights, but I can check the weather") is not a refusal: the
phrases and that rule live in `curator.lexicon`, shared with validate and the rubrics.

Repetition: the classic sign of a model stuck in a loop. Two measures on answers (and reasoning,
where R1-style loops are common): the share of non-trivial lines that repeat an earlier line, and
the share of word n-grams that are repeats. Chinese has no spaces, so each Han character is a
token. Short answers are not measured (a 3-line list can legitimately repeat).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curator import lexicon
from curator.errors import UsageError
from curator.filters._util import check_roles, clip, messages_of
from curator.filters.base import Drop, Filter, Verdict, register
from curator.filters.repeats import _FENCED, duplicate_line_ratio, ngram_repeat_ratio_of, word_tokens
from curator.filters.screen import SEP, Joined, cover_needles
from curator.record import Conversation

# The phrase lists live in curator.lexicon, shared with validate and the rubrics.
REFUSAL_PHRASES_EN = lexicon.REFUSAL_EN
REFUSAL_PHRASES_ZH = lexicon.REFUSAL_ZH


@register
@dataclass
class Refusal(Filter):
    name = "refusal"
    cost = 2
    codes = ("refusal",)

    phrases: list[str] = field(default_factory=lambda: REFUSAL_PHRASES_EN + REFUSAL_PHRASES_ZH,
                               metadata={"help": "phrases (case-insensitive); replaces the built-in en+zh list"})
    extra_phrases: list[str] = field(default_factory=list, metadata={"help": "phrases added to `phrases`"})
    roles: list[str] = field(default_factory=lambda: ["assistant"], metadata={"help": "roles checked"})
    within_chars: int = field(default=300, metadata={"help": "look only at the first N characters (0 = all)"})
    action: str = field(default="drop", metadata={"help": "drop, or tag (keep and add 'refusal' to meta.tags)"})
    helpful_declines: bool = field(default=True, metadata={
        "help": "a decline that goes on to help ('I can't book flights, but I can…') is not a refusal"})

    def setup(self) -> None:
        check_roles(self.roles)
        if self.action not in ("drop", "tag"):
            raise UsageError(f"action {self.action!r}: choose drop or tag")
        self._phrases = tuple(p for p in self.phrases + self.extra_phrases if p.strip())
        self.edits = self.action == "tag"  # type: ignore[misc]

    def filter(self, conv: Conversation) -> Verdict:
        if not self._phrases:
            return True
        for i, m in messages_of(conv, self.roles):
            hit = lexicon.find_refusal(m.content, phrases=self._phrases, within_chars=self.within_chars,
                                       helpful_declines=self.helpful_declines, tool_data=bool(conv.tools))
            if hit:
                if self.action == "tag":
                    tags = conv.meta.setdefault("tags", [])
                    if "refusal" not in tags:
                        tags.append("refusal")
                    return True
                return Drop("refusal", f"{m.role} message {i} contains the refusal/boilerplate phrase "
                            f"{hit!r} (in its first {self.within_chars or len(m.content)} characters)")
        return True

    def screen(self, view):
        # `find_refusal` returns None unless a phrase is a substring of the head: the text lowered,
        # ’ folded to ', cut to `within_chars`. `str.lower` maps each character on its own (Σ aside:
        # texts with one are left to `filter`) and never shortens, so lowering the first
        # `within_chars` characters gives the head plus perhaps a few characters more: a text
        # without a phrase there has none in its head. Phrases holding the separator: no screen.
        if not self._phrases:
            return view.sure_except([])
        words = lexicon._phrase_words(self._phrases)
        if any(SEP in w for w in words):
            return None
        # A head holding a needle is proven too when it holds no phrase (`find_refusal` tests the
        # same substrings of a prefix of it): most needles are common ("i can", "able to").
        texts, owner = view.texts(self.roles)
        w = self.within_chars
        heads = [t[:w].lower() for t in texts] if w else [t.lower() for t in texts]
        heads = [h.replace("\u2019", "'") for h in heads]  # as `_norm_refusal`
        hits = {i for i in Joined(heads).with_any(cover_needles(words)) if any(map(heads[i].__contains__, words))}
        if any("\u03a3" in t for t in texts):
            hits.update(i for i, t in enumerate(texts) if "\u03a3" in (t[:w] if w else t))
        return view.sure_except(owner[sorted(hits)])


@register
@dataclass
class Repetition(Filter):
    name = "repetition"
    cost = 3
    codes = ("repeated_lines", "repeated_ngrams")

    roles: list[str] = field(default_factory=lambda: ["assistant"], metadata={"help": "roles checked"})
    include_reasoning: bool = field(default=True, metadata={"help": "also check reasoning (loops are common there)"})
    max_dup_line_ratio: float | None = field(default=0.3, metadata={"help": "max share of lines repeating an earlier line"})
    min_lines: int = field(default=5, metadata={"help": "measure lines only when there are at least this many"})
    min_line_chars: int = field(default=10, metadata={"help": "shorter lines ('}', '---') are ignored"})
    ngram: int = field(default=10, metadata={"help": "n for the n-gram repetition ratio (tokens)"})
    max_ngram_ratio: float | None = field(default=0.3, metadata={"help": "max share of n-grams that are repeats"})
    min_tokens: int = field(default=50, metadata={"help": "measure n-grams only on texts with this many tokens"})
    ignore_code: bool = field(default=True, metadata={"help": "skip fenced code (code repeats by nature)"})

    def setup(self) -> None:
        check_roles(self.roles)
        if self.ngram < 1:
            raise UsageError(f"ngram must be >= 1, got {self.ngram}")

    def filter(self, conv: Conversation) -> Verdict:
        for i, m in messages_of(conv, self.roles):
            for part, text in (("content", m.content), ("reasoning", m.reasoning if self.include_reasoning else None)):
                if not text:
                    continue
                if self.ignore_code and "```" in text:
                    text = _FENCED.sub("", text)
                v = self._check(text)
                if v is not True:
                    return Drop(v.code, f"{m.role} message {i} {part}: {v.message}")
        return True

    def screen(self, view):
        from curator.filters.repetition_screen import screen_repetition

        return screen_repetition(self, view)

    def _check(self, text: str) -> Verdict:
        if self.max_dup_line_ratio is not None and text.count("\n") + 1 >= self.min_lines:
            r, n = duplicate_line_ratio(text, self.min_line_chars)
            if n >= self.min_lines and r > self.max_dup_line_ratio:
                return Drop("repeated_lines", f"{r:.0%} of its {n} lines repeat an earlier line, above "
                                              f"max_dup_line_ratio={self.max_dup_line_ratio}")
        if self.max_ngram_ratio is not None and len(text) >= self.min_tokens:
            toks = word_tokens(text)
            if len(toks) < self.min_tokens or len(toks) < self.ngram:
                return True
            r, n = ngram_repeat_ratio_of(toks, self.ngram)
            if r > self.max_ngram_ratio:
                return Drop("repeated_ngrams", f"{r:.0%} of its {self.ngram}-grams are repeats (over {n} tokens), "
                                               f"above max_ngram_ratio={self.max_ngram_ratio}; starts {clip(text, 40)}")
        return True
