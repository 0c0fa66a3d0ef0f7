"""The user-interface language: English or Chinese, for people, never for scripts.

What is translated: the review app (keys, help, footer, prompts), the HTML report (headings,
notes, chart labels), command summaries and reject sentences as printed. What is never
translated: reason codes, file names, line numbers, JSON field names and everything written to
rejects/manifest files, so scripts that grep or parse them keep working in both languages.

The language is chosen once per process: `--ui-lang en|zh` (every `curate` command takes it),
else the `CURATE_UI_LANG` environment variable (set by `--ui-lang`, so `curate run`'s stages
inherit it), else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG` starting with `zh`), else English.

Strings are looked up by their English text (gettext style), so code reads as English and an
untranslated string simply stays English. Catalogs live in `curator/i18n_zh.py`.
"""

from __future__ import annotations

import os
import re

LANGS = ("en", "zh")
ENV = "CURATE_UI_LANG"
_ALIASES = {"en": "en", "english": "en", "zh": "zh", "cn": "zh", "zh-cn": "zh", "zh_cn": "zh", "chinese": "zh",
            "zh-hans": "zh", "中文": "zh"}


def normalize(value: str) -> str:
    """`zh`, `cn`, `zh-CN`, `zh_CN.UTF-8` -> `zh`; `en`, `en_US` -> `en`; anything else is an error."""
    v = value.strip().lower().split(".")[0]
    if v in _ALIASES:
        return _ALIASES[v]
    if v.startswith("zh"):
        return "zh"
    if v.startswith("en") or v in ("c", "posix"):
        return "en"
    raise ValueError(f"--ui-lang {value!r}: choose en or zh")


def detect() -> str:
    """The language from the environment: CURATE_UI_LANG, then the locale variables."""
    explicit = os.environ.get(ENV)
    if explicit:
        try:
            return normalize(explicit)
        except ValueError:
            return "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        val = os.environ.get(var)
        if val:  # the first one set wins, as in POSIX locale resolution
            return "zh" if val.lower().startswith("zh") else "en"
    return "en"


def set_lang(value: str | None) -> str:
    """Fix the language for this process and its children (`curate run` stages); returns it."""
    lang = normalize(value) if value else detect()
    os.environ[ENV] = lang
    return lang


def lang() -> str:
    return detect()


def is_zh() -> bool:
    return detect() == "zh"


def tr(text: str, **kw: object) -> str:
    """`text` in the UI language; `{name}` fields are filled from `kw` after translation."""
    if is_zh():
        from curator.i18n_zh import UI, pattern

        text = UI.get(text) or pattern(text) or text
    return text.format(**kw) if kw else text


# A reject message is "[file:line: ]what[ — fix]"; the location keeps its exact form.
_LOC = re.compile(r"^((?:[^\s:]|:(?!\s))+:\d+: )")


def reject_sentence(code: str, message: str) -> str:
    """A reject message for printing. English: unchanged. Chinese: same location and code, the
    sentence and fix from the table keyed by reason code, and the English detail kept in
    brackets (it names the field, role or value exactly)."""
    if not is_zh():
        return message
    from curator.i18n_zh import REASONS

    entry = REASONS.get(code)
    if entry is None:
        return message
    m = _LOC.match(message)
    loc = m.group(1) if m else ""
    what_en, _, fix_en = message[len(loc):].partition(" — ")
    # The English fix is replaced by the Chinese one, unless it names a value ("did you mean 'assistant'?").
    detail = f"{what_en} — {fix_en}" if "'" in fix_en else what_en
    what, fix = entry
    return f"{loc}{what}（{detail}）— {fix}"


def usage_sentence(message: str) -> str:
    """A one-line usage error for printing, with a Chinese lead when the UI language is Chinese."""
    if not is_zh():
        return message
    from curator.i18n_zh import usage_hint

    return usage_hint(message)
