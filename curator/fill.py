"""`curate convert --fill name=… --fill author=…`: fill `{{name}}`-style template placeholders.

LLaMA-Factory's identity.json (and many self-introduction sets) ship answers such as "我是
{{name}}，由 {{author}} 开发" that users edit by hand. Filling happens before validation, so a
filled row passes and a row with a placeholder nobody filled is still rejected as `placeholder`.
Only the placeholders named are replaced; text inside code fences is left alone, like the
`placeholder` check (a Jinja/Handlebars snippet in an answer is content, not a template).
"""

from __future__ import annotations

import re

from curator.errors import UsageError
from curator.record import Conversation

_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_FENCE = re.compile(r"(```.*?(?:```|$))", re.S)


def parse_fills(items: list[str] | None) -> dict[str, str]:
    """`["name=小助手", "author=某团队"]` -> `{"name": "小助手", "author": "某团队"}`."""
    out: dict[str, str] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not _NAME.match(key):
            raise UsageError(f"--fill {item!r}: expected NAME=VALUE, e.g. --fill name=小助手 --fill author=某团队")
        out[key] = value
    return out


def _pattern(values: dict[str, str]) -> re.Pattern[str]:
    names = "|".join(re.escape(k) for k in sorted(values, key=len, reverse=True))
    return re.compile(r"\{\{\s*(" + names + r")\s*\}\}")


def fill_text(text: str, values: dict[str, str], pattern: re.Pattern[str] | None = None) -> tuple[str, int]:
    """`text` with the named placeholders filled outside code fences; returns (text, replacements)."""
    if "{{" not in text or not values:
        return text, 0
    rx = pattern or _pattern(values)
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return values[m.group(1)]

    parts = _FENCE.split(text)  # odd indexes are fenced code
    parts = [p if i % 2 else rx.sub(sub, p) for i, p in enumerate(parts)]
    return "".join(parts), count


class Filler:
    """Fills one conversation's texts in place (content and reasoning of every message)."""

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.pattern = _pattern(values) if values else None
        self.filled_rows = 0
        self.replacements = 0

    def __call__(self, conv: Conversation) -> Conversation:
        n = 0
        for m in conv.messages:
            m.content, k = fill_text(m.content, self.values, self.pattern)
            n += k
            if m.reasoning:
                m.reasoning, k = fill_text(m.reasoning, self.values, self.pattern)
                n += k
        if n:
            self.filled_rows += 1
            self.replacements += n
        return conv
