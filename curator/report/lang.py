"""The report's language labels: the same language ID as `curate filter --lang` (`curator.langid`).

`record_language(prompt, answer)` names a record's language by its user turns, as the language
filter decides by the prompt: ISO 639-1 codes (``en``, ``zh``, ``ja``, ...) from the script pass
and the bundled fastText model, with the filter's defaults (code removed; Latin text under 20
characters and verdicts under confidence 0.5 are unknown). When the prompt says nothing (no
letters, too short), the answer decides; ``und`` when neither does. So a report's "en 61%" means
what `curate filter --lang en` would keep, not a script bucket.

`script_language(text)` stays as the dependency-free script classifier (``zh``, ``ja``, ``ko``,
``ru``, ``ar``, ``latin``, ``other``, ``none``) for callers that want only the script.
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


# the language filter's defaults (curator/filters/language.py), so both call the same text the same
MIN_CHARS = 20
MIN_CONFIDENCE = 0.5


def classify_language(text: str) -> str:
    """ISO 639 code of one text by `curator.langid`, or ``und`` (unknown / low confidence)."""
    from curator import langid

    lang, conf = langid.detect(text, MIN_CHARS)
    return langid.UNKNOWN if lang == langid.UNKNOWN or conf < MIN_CONFIDENCE else lang


def record_language(prompt: str, answer: str) -> str:
    """A record's language: its prompt's, else its answer's, else ``und``."""
    from curator import langid

    lang = classify_language(prompt) if prompt else langid.UNKNOWN
    if lang == langid.UNKNOWN and answer:
        lang = classify_language(answer)
    return lang
