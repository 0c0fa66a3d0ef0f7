"""`language`: allowed languages per role, detected by `curator.langid` with code removed.

All turns of a role are detected together (one call per role per record). Text with no letters
("4", a code-only answer) or shorter than `min_chars` is unknown and kept by default; so is a
detection below `min_confidence`: on alpaca_en_demo the wrong guesses of the lite model on short
text ("fog." -> hu 0.82, "We drank a latte." -> it 0.27) are short or unsure, while real foreign
text is long and sure. A wrong guess on a 4-word answer should not cost a record.

Translation data answers in another language on purpose: check only the user role there
(`roles: [user]`) or give the assistant its own list (`per_role: {assistant: [en, fr]}`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curator import langid
from curator.errors import UsageError
from curator.filters._util import check_roles, clip
from curator.filters.base import Drop, Filter, Verdict, register
from curator.record import ROLES, Conversation


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
    min_chars: int = field(default=20, metadata={"help": "shorter non-CJK text (code removed) counts as unknown"})
    unknown: str = field(default="keep", metadata={"help": "keep or drop text whose language is unknown"})

    def setup(self) -> None:
        check_roles(self.roles)
        check_roles(list(self.per_role), "per_role")
        if self.unknown not in ("keep", "drop"):
            raise UsageError(f"unknown {self.unknown!r}: choose keep or drop")
        # Roles in a fixed order (not set order, which changes with the hash seed): the first failing
        # role names the reject, and output must be byte-identical run to run.
        checked = [r for r in ROLES if r in self.roles or r in self.per_role]
        self._allowed = {r: set(self.per_role.get(r, self.allowed)) for r in checked}
        for r, langs in self.per_role.items():
            if not isinstance(langs, list):
                raise UsageError(f"per_role.{r} should be a list of language codes, got {langs!r}")

    def filter(self, conv: Conversation) -> Verdict:
        for role, allowed in self._allowed.items():
            text = "\n".join(m.content for m in conv.messages if m.role == role)
            if not text:
                continue
            # Short CJK text is decided by script and stays reliable; short Latin text is unknown.
            lang, conf = langid.detect(text, self.min_chars)
            if lang == langid.UNKNOWN or conf < self.min_confidence:
                if self.unknown == "drop":
                    return Drop("unknown_language", f"{role} text {clip(text, 40)}: language unknown "
                                f"({lang}, confidence {conf:.2f} < min_confidence={self.min_confidence}) and unknown=drop")
                continue
            if lang not in allowed:
                return Drop("wrong_language", f"{role} text {clip(text, 40)} is {lang} (confidence {conf:.2f}), "
                            f"not in allowed {sorted(allowed)}")
        return True
