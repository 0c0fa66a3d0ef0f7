"""README.md and README_zh.md document the same commands and options.

Both READMEs keep commands and options in code (`...` spans and fenced blocks) verbatim, whatever
the language of the prose around them, so the set of `--option`s, `curate SUB` and `train SUB`
words found in code must be the same in both. A line added to one README and not the other fails
here, naming what is missing and where.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_SPAN = re.compile(r"`([^`]+)`")  # a span may wrap onto the next line
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# `curate convert`, `train make-tiny`: a lower-case word after the program name (not a path or DATA).
_SUB = re.compile(r"(?<![\w./-])(curate|train) ([a-z][a-z-]*)(?=[\s`]|$)")


def code_terms(text: str) -> set[str]:
    """Options and sub-commands named in code (fences and inline spans) of a Markdown text."""
    chunks = [m.group(0) for m in _FENCE.finditer(text)]
    rest = _FENCE.sub("", text)
    chunks += [m.group(1) for m in _SPAN.finditer(rest)]
    terms: set[str] = set()
    for chunk in chunks:
        terms.update(_OPTION.findall(chunk))
        terms.update(f"{prog} {sub}" for prog, sub in _SUB.findall(chunk))
    return terms


def test_code_terms_finds_options_and_subcommands() -> None:
    md = "Run `curate convert a.json -o b.jsonl --fill name=x` then\n```\ntrain make-tiny runs/t\ntrain DATA --model M\n```\n"
    assert code_terms(md) == {"curate convert", "--fill", "train make-tiny", "--model"}


def test_readmes_document_the_same_commands_and_options() -> None:
    en = code_terms((ROOT / "README.md").read_text(encoding="utf-8"))
    zh = code_terms((ROOT / "README_zh.md").read_text(encoding="utf-8"))
    missing_zh = sorted(en - zh)
    missing_en = sorted(zh - en)
    assert not missing_zh, f"documented in README.md but missing from README_zh.md: {missing_zh}"
    assert not missing_en, f"documented in README_zh.md but missing from README.md: {missing_en}"
