"""`language`: allowed languages, decided by the prompt, with the answer as a second opinion.

Detection is `curator.langid` with code removed; all turns of a role are detected together. The
rules are built so that a wrong guess of the identifier never costs a good record (issue #18:
GSM8K answers called it/es at 0.51, a love letter called nl, a Spanish answer to "translate into
Spanish" dropped):

- The record's language is the prompt's (user turns). A prompt confidently in a language that is
  not allowed is dropped — unless the answer is confidently in an allowed language (a foreign
  text to translate into English is an English task).
- An answer in a language that is not allowed is dropped only when the verdict is sure
  (`answer_min_confidence`, default 0.9 — CJK is decided by script and always sure) and the
  instruction does not ask for that language ("translate into Spanish", "用英文回答").
- Anything below `min_confidence`, shorter than `min_chars`, or with no letters is unknown and
  kept by default (`unknown: drop` to drop it).

Codes are validated (`curator.lexicon.normalize_lang`): cn, zh-CN, zh-Hans, en-US, eng are
accepted, an unknown code (``xx``) is a usage error instead of silently dropping everything.
Other roles (system, tool) in `roles`/`per_role` are checked on their own with `min_confidence`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from curator import langid, lexicon
from curator.errors import UsageError
from curator.filters._util import check_roles, clip
from curator.filters.base import Drop, Filter, Verdict, register
from curator.record import ROLES, Conversation


_CJK = {"zh", "ja", "ko", "yue", "wuu"}
# A quoted Latin-script phrase in the prompt ('写一个包含“do away with”的句子'): an answer in that script is on topic.
_QUOTED_LATIN = re.compile(r"[“\"「『'‘]\s*[A-Za-z][A-Za-z ,.'!?-]{2,}[”\"」』'’]")


@register
@dataclass
class Language(Filter):
    name = "language"
    cost = 5
    codes = ("wrong_language", "unknown_language")

    allowed: list[str] = field(default_factory=lambda: ["en", "zh"],
                               metadata={"help": "ISO 639-1 codes allowed for every checked role"})
    roles: list[str] = field(default_factory=lambda: ["user", "assistant"], metadata={"help": "roles checked"})
    per_role: dict = field(default_factory=dict,
                           metadata={"help": "override per role, e.g. {user: [zh], assistant: [zh, en]}"})
    min_confidence: float = field(default=0.5, metadata={"help": "detections below this count as unknown"})
    answer_min_confidence: float = field(default=0.9, metadata={
        "help": "an answer is dropped as another language only at this confidence or above"})
    min_chars: int = field(default=20, metadata={"help": "shorter non-CJK text (code removed) counts as unknown"})
    unknown: str = field(default="keep", metadata={"help": "keep or drop text whose language is unknown"})

    def setup(self) -> None:
        check_roles(self.roles)
        check_roles(list(self.per_role), "per_role")
        if self.unknown not in ("keep", "drop"):
            raise UsageError(f"unknown {self.unknown!r}: choose keep or drop")
        for r, langs in self.per_role.items():
            if not isinstance(langs, list):
                raise UsageError(f"per_role.{r} should be a list of language codes, got {langs!r}")
        # Roles in a fixed order (not set order, which changes with the hash seed): the first failing
        # role names the reject, and output must be byte-identical run to run.
        checked = [r for r in ROLES if r in self.roles or r in self.per_role]
        self._allowed = {r: set(lexicon.normalize_langs(list(self.per_role.get(r, self.allowed)),
                                                        f"language: {'per_role.' + r if r in self.per_role else 'allowed'}"))
                         for r in checked}

    def _detect(self, conv: Conversation, role: str) -> tuple[str, str, float]:
        text = "\n".join(m.content for m in conv.messages if m.role == role)
        if not text:
            return text, langid.UNKNOWN, 0.0
        # Short CJK text is decided by script and stays reliable; short Latin text is unknown.
        lang, conf = langid.detect(text, self.min_chars)
        return text, lang, conf

    def _unknown(self, role: str, text: str, lang: str, conf: float) -> Verdict:
        if self.unknown == "drop" and text:
            return Drop("unknown_language", f"{role} text {clip(text, 40)}: language unknown "
                        f"({lang}, confidence {conf:.2f} < min_confidence={self.min_confidence}) and unknown=drop")
        return True

    def filter(self, conv: Conversation) -> Verdict:
        seen: dict[str, tuple[str, str, float]] = {}
        for role in self._allowed:
            seen[role] = self._detect(conv, role)
        ask = lexicon.requested_languages(conv.prompt_text()) if "assistant" in self._allowed else set()
        for role, allowed in self._allowed.items():
            text, lang, conf = seen[role]
            if not text:
                continue
            if lang == langid.UNKNOWN or conf < self.min_confidence:
                v = self._unknown(role, text, lang, conf)
                if v is not True:
                    return v
                continue
            if lang in allowed:
                continue
            if role == "user" and "assistant" in self._allowed:
                # Second opinion: a foreign text with an answer in an allowed language is a task in
                # that language (translation into it, questions about a quote).
                _, a_lang, a_conf = seen["assistant"]
                if a_lang in self._allowed["assistant"] and a_conf >= self.min_confidence:
                    continue
            if role == "assistant":
                if lang in ask or (lang not in _CJK and _QUOTED_LATIN.search(conv.prompt_text())):
                    continue  # the instruction asks for this language, or is about a quoted text in it
                if conf < self.answer_min_confidence:
                    v = self._unknown(role, text, lang, conf)
                    if v is not True:
                        return v
                    continue
            return Drop("wrong_language", f"{role} text {clip(text, 40)} is {lang} (confidence {conf:.2f}), "
                        f"not in allowed {sorted(allowed)}")
        return True
