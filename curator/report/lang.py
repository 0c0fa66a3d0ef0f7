"""A dependency-free language guess by Unicode script, good enough for a composition report.

`script_language(text)` counts letters per script and names the dominant one: ``zh`` (Han with
no kana), ``ja`` (any kana), ``ko`` (Hangul), ``ru`` (Cyrillic), ``ar`` (Arabic), ``latin``
(English, French, ... are not told apart), ``other``, ``none`` (no letters, e.g. pure numbers
or code). It is a script classifier, not a language identifier: it cannot split English from
German, and a Chinese prompt that quotes a long English passage may come out ``latin``.

Upgrade path: when a real identifier exists as ``curator.langid.detect(text) -> str`` (another
part of the project), `classify_language` can call it; the report's default stays this
classifier so it works without extra packages and gives the same answer on every machine.
"""

from __future__ import annotations

_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x3040, 0x30FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xF900, 0xFAFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0x1100, 0x11FF, "hangul"),
    (0x0400, 0x04FF, "cyrillic"),
    (0x0600, 0x06FF, "arabic"),
)

_SAMPLE = 2000  # characters looked at per text: the script of a long answer is settled early


def _script(ch: str) -> str | None:
    o = ord(ch)
    if o < 0x80:
        return "latin" if ch.isalpha() else None
    if o < 0x250:
        return "latin" if ch.isalpha() else None
    for lo, hi, name in _RANGES:
        if lo <= o <= hi:
            return name
    return "other" if ch.isalpha() else None


def script_language(text: str) -> str:
    counts: dict[str, int] = {}
    for ch in text[:_SAMPLE]:
        s = _script(ch)
        if s is not None:
            counts[s] = counts.get(s, 0) + 1
    if not counts:
        return "none"
    if counts.get("kana", 0) >= 2:
        return "ja"
    # Han characters carry ~3-4x the information of a Latin letter; weigh them so that a Chinese
    # sentence with a few English product names still counts as Chinese.
    weighted = {k: v * (3 if k in ("han", "hangul") else 1) for k, v in counts.items()}
    top = max(sorted(weighted), key=weighted.__getitem__)
    return {"han": "zh", "hangul": "ko", "cyrillic": "ru", "arabic": "ar", "kana": "ja"}.get(top, top)


def classify_language(text: str) -> str:
    """The language label used by the report (see the module docstring for the upgrade path)."""
    return script_language(text)
