"""Untrusted text shown as text.

Records come from the internet and from models: they can hold Rich markup (``[bold red]``), ANSI
escape sequences or other terminal control characters. Textual would pass a raw ESC byte to the
terminal inside a Rich `Text`, and `Static("...")` would parse markup, so every string taken from
data goes through `visible()` and is wrapped in a `rich.text.Text` (never parsed as markup).
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls except newline and tab, DEL, C1 controls, and the Unicode bidi/format controls that
# can reorder or hide what is shown (the "Trojan Source" class).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _picture(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c == 0x1B:
        return "␛"
    if c < 0x20:
        return chr(0x2400 + c)  # Unicode "control pictures": ␀ ␁ … ␟
    if c == 0x7F:
        return "␡"
    return f"\\u{c:04x}" if c > 0xFF else f"\\x{c:02x}"


def visible(s: object) -> str:
    """`s` with every control character replaced by a visible stand-in (newline and tab kept)."""
    text = s if isinstance(s, str) else str(s)
    return _CONTROL.sub(_picture, text)


def one_line(s: object, width: int = 80) -> str:
    """A single visible line (newlines shown as ⏎), cut to about `width` characters."""
    text = visible(s).replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\t", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def safe(s: object, style: str = "") -> Text:
    """A Rich `Text` holding `s` literally: no markup parsing, no control characters."""
    return Text(visible(s), style=style)
