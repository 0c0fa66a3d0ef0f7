"""The formats that hold a record directly (every format but the `rejects` wrapper): their names,
aliases and detection order, and the name lookup both the package and `rejects` use.

A leaf of `curator.formats`: the package adds `rejects` on top (`FORMATS`), and `rejects` unwraps
the record inside a reject with these formats, so neither imports the other (no import cycle).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from curator.errors import UsageError
from curator.formats import alpaca, messages, prompt_completion, sharegpt, turns

RECORD_FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (messages, sharegpt, alpaca, prompt_completion, turns)}
ALIASES = {"openai": "messages", "ark": "messages", "canonical": "messages", "chatml": "messages",
           "fastchat": "sharegpt", "mt_bench": "turns", "questions": "turns", "trl": "prompt_completion", "prompt-completion": "prompt_completion"}
# Detection order matters: a messages row may carry an "instruction" extra column, not vice versa.
# `rejects` is tried after all of these (curator/formats/__init__.py).
DETECT_ORDER: tuple[ModuleType, ...] = (messages, sharegpt, prompt_completion, alpaca, turns)


def find_format(formats: dict[str, ModuleType], name: str) -> ModuleType:
    """The format `name` (or an alias of it) in `formats`; a one-line `UsageError` naming the choices."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in formats:
        choices = ", ".join(list(formats) + list(ALIASES))
        raise UsageError(f"unknown format '{name}' (choose from {choices})")
    return formats[key]


def detect_record_format(row: dict[str, Any]) -> ModuleType | None:
    """The first record format `row` matches, or None."""
    for fmt in DETECT_ORDER:
        if fmt.matches(row):
            return fmt
    return None
