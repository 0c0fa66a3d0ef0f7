"""Decontamination: never select a record whose prompt overlaps an eval or benchmark prompt.

Overlap is shared token n-grams (the GPT-3 / Llama contamination check): a record is
contaminated when any `n`-gram of its prompt occurs in any prompt of the `--against` files, or —
for prompts shorter than `n` tokens — when its whole normalised prompt equals one. Tokens are
words for alphabetic scripts and single characters for Chinese/Japanese/Korean (which has no
spaces, so characters are its n-gram unit), lower-cased with punctuation dropped, so
reformatting or a changed full stop does not hide a copy.

Only 8-byte hashes of the eval n-grams are kept (with, per hash, the first eval record that
has it, so a verdict names the eval file and id).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import xxhash

from curator.record import Conversation

# one CJK ideograph/kana/hangul per token; any other run of letters/digits is one word
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+", re.UNICODE)
DEFAULT_NGRAM = 13


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def ngram_hashes(text: str, n: int) -> set[int]:
    """Hashes of the token n-grams of `text`; a text shorter than n tokens gives one hash of all of it."""
    toks = tokens(text)
    if not toks:
        return set()
    if len(toks) < n:
        return {xxhash.xxh3_64_intdigest("\x1f".join(toks).encode())}
    return {xxhash.xxh3_64_intdigest("\x1f".join(toks[i: i + n]).encode()) for i in range(len(toks) - n + 1)}


class ContaminationIndex:
    """The n-gram hashes of every prompt of the eval files, each mapped to where it came from."""

    def __init__(self, n: int = DEFAULT_NGRAM):
        self.n = n
        self.where: dict[int, tuple[str, str]] = {}
        self.prompts = 0

    def add_records(self, label: str, records: Iterable[Conversation]) -> None:
        for conv in records:
            self.prompts += 1
            for h in ngram_hashes(conv.prompt_text(), self.n):
                self.where.setdefault(h, (label, conv.id))

    def match(self, prompt: str) -> tuple[str, str] | None:
        """(eval file, eval record id) of the first overlapping eval prompt, or None."""
        for h in ngram_hashes(prompt, self.n):
            hit = self.where.get(h)
            if hit is not None:
                return hit
        return None


def load_index(paths: Iterable[Path], read, n: int = DEFAULT_NGRAM) -> ContaminationIndex:
    """Index every --against file; `read(path)` yields its records (bad rows are the caller's)."""
    index = ContaminationIndex(n)
    for p in paths:
        index.add_records(Path(p).name, read(p))
    return index
