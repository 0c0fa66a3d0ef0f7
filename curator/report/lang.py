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

import re

_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kana", re.compile(r"[\u3040-\u30ff]")),
    ("han", re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")),
    ("hangul", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("cyrillic", re.compile(r"[\u0400-\u04ff]")),
    ("arabic", re.compile(r"[\u0600-\u06ff]")),
    ("latin", re.compile(r"[A-Za-z\u00c0-\u024f]")),
)
_ANY_LETTER = re.compile(r"[^\W\d_]")
_SAMPLE = 2000  # characters looked at per text: the script of a long answer is settled early


def script_language(text: str) -> str:
    t = text[:_SAMPLE]
    # one C-level regex scan per script instead of a Python loop per character
    counts = {name: len(rx.findall(t)) for name, rx in _SCRIPTS}
    if not any(counts.values()):
        return "other" if _ANY_LETTER.search(t) else "none"
    if counts["kana"] >= 2:
        return "ja"
    # Han characters carry ~3-4x the information of a Latin letter; weigh them so that a Chinese
    # sentence with a few English product names still counts as Chinese.
    weighted = {k: v * (3 if k in ("han", "hangul") else 1) for k, v in counts.items() if v}
    top = max(sorted(weighted), key=weighted.__getitem__)
    return {"han": "zh", "hangul": "ko", "cyrillic": "ru", "arabic": "ar", "kana": "ja"}.get(top, top)


def classify_language(text: str) -> str:
    """The language label used by the report (see the module docstring for the upgrade path)."""
    return script_language(text)
