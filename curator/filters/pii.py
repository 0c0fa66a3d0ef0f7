"""`pii`: e-mail addresses, phone numbers (Chinese mobile and separated international numbers),
Chinese resident ID-card numbers (checksum and birth date verified) — drop the record or mask them.

Masking edits the kept record (the chain hands this filter a copy) and records what it did in
``meta.pii_masked`` (counts by kind), so a reviewer can find masked records later.

Phone numbers need separators or a Chinese mobile prefix: bare digit runs are everywhere in math
and code answers, and a filter that masks "12345678901" in a checksum example does harm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from curator.errors import UsageError
from curator.filters._util import check_roles
from curator.filters.base import Drop, Filter, Verdict, register
from curator.record import Conversation

# Boundaries are ASCII-only: Chinese text runs straight into an address or a number with no space
# ("邮箱zhangsan@example.com", "电话13812345678"), and \w / \b count Han characters as word characters.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")
CN_MOBILE = re.compile(r"(?<![\d.])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![\d.])")
INTL_PHONE = re.compile(r"(?<![A-Za-z0-9_.])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![A-Za-z0-9_.])")
CN_ID = re.compile(r"(?<![\dA-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_valid(s: str) -> bool:
    """GB 11643-1999 checksum of an 18-character resident ID number."""
    if len(s) != 18 or not s[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(s[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == s[17].upper()


KINDS = ("email", "phone", "cn_id")
_MASKS = {"email": "[EMAIL]", "phone": "[PHONE]", "cn_id": "[ID_NUMBER]"}


def find_pii(text: str, kinds: tuple[str, ...] = KINDS) -> list[tuple[str, int, int]]:
    """(kind, start, end) spans, sorted, non-overlapping (ID numbers win over phones)."""
    spans: list[tuple[str, int, int]] = []
    if "cn_id" in kinds:
        spans += [("cn_id", m.start(), m.end()) for m in CN_ID.finditer(text) if cn_id_valid(m.group(0))]
    if "email" in kinds and "@" in text:
        spans += [("email", m.start(), m.end()) for m in EMAIL.finditer(text)]
    if "phone" in kinds:
        for rx in (CN_MOBILE, INTL_PHONE):
            spans += [("phone", m.start(), m.end()) for m in rx.finditer(text)]
    spans.sort(key=lambda s: (s[1], -(s[2] - s[1])))
    out: list[tuple[str, int, int]] = []
    for s in spans:
        if out and s[1] < out[-1][2]:
            continue
        out.append(s)
    return out


def mask_pii(text: str, spans: list[tuple[str, int, int]]) -> str:
    parts, last = [], 0
    for kind, a, b in spans:
        parts.append(text[last:a])
        parts.append(_MASKS[kind])
        last = b
    parts.append(text[last:])
    return "".join(parts)


@register
@dataclass
class Pii(Filter):
    name = "pii"
    cost = 4
    codes = ("pii",)

    kinds: list[str] = field(default_factory=lambda: list(KINDS), metadata={"help": "email, phone, cn_id"})
    action: str = field(default="drop", metadata={"help": "drop the record, or mask (replace with [EMAIL] ...)"})
    roles: list[str] = field(default_factory=lambda: ["system", "user", "assistant", "tool"],
                             metadata={"help": "roles checked"})

    def setup(self) -> None:
        check_roles(self.roles)
        for k in self.kinds:
            if k not in KINDS:
                raise UsageError(f"kinds: unknown kind {k!r} (choose from {', '.join(KINDS)})")
        if self.action not in ("drop", "mask"):
            raise UsageError(f"action {self.action!r}: choose drop or mask")
        self._kinds = tuple(self.kinds)
        self.edits = self.action == "mask"  # type: ignore[misc]

    def filter(self, conv: Conversation) -> Verdict:
        masked: dict[str, int] = {}
        for i, m in enumerate(conv.messages):
            if m.role not in self.roles:
                continue
            for attr in ("content", "reasoning"):
                text = getattr(m, attr)
                if not text:
                    continue
                spans = find_pii(text, self._kinds)
                if not spans:
                    continue
                if self.action == "drop":
                    kind, a, b = spans[0]
                    shown = text[a:b]
                    shown = shown[:3] + "…" if len(shown) > 3 else shown  # never repeat the full PII in logs
                    return Drop("pii", f"{m.role} message {i} contains {len(spans)} PII item(s), first a {kind} "
                                       f"({shown!r} at offset {a}) — action=drop")
                setattr(m, attr, mask_pii(text, spans))
                for kind, _, _ in spans:
                    masked[kind] = masked.get(kind, 0) + 1
        if masked:
            prev = conv.meta.get("pii_masked") or {}
            conv.meta["pii_masked"] = {k: prev.get(k, 0) + masked.get(k, 0) for k in sorted(set(prev) | set(masked))}
        return True
