"""How repetitive a text is: the exact measures of the `repetition` filter (`content.Repetition`),
shared with its batch screens (`repetition_screen`, `ngram_screen`), which must cut lines and
tokens exactly as they do.

A leaf module: the filter and the screens import it, not each other (no import cycle).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)


def duplicate_line_ratio(text: str, min_line_chars: int) -> tuple[float, int]:
    """(share of non-trivial lines that repeat an earlier one, number of non-trivial lines)."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if len(ln) >= min_line_chars]
    if not lines:
        return 0.0, 0
    return (len(lines) - len(set(lines))) / len(lines), len(lines)


# ASCII text has no Han characters and its `\\w` is [A-Za-z0-9_]: blanking every other byte and
# splitting gives the same tokens as `_TOKEN` (as bytes, which compare and hash alike), all in C.
# The table also lower-cases A-Z (as `bytes.lower` would first): one pass instead of two.
_ASCII_NON_WORD = bytes(ord(chr(c).lower()) if chr(c).isascii() and (chr(c).isalnum() or c == 0x5F) else 0x20
                        for c in range(256))


def word_tokens(text: str) -> list:
    """Lower-cased word tokens, each Han character its own token (bytes for ASCII text, else str)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_NON_WORD).split()
    return _TOKEN.findall(text.lower())


def ngram_repeat_ratio(text: str, n: int) -> tuple[float, int]:
    """(share of word n-grams that are repeats, number of tokens). Han characters are tokens."""
    return ngram_repeat_ratio_of(word_tokens(text), n)


def ngram_repeat_ratio_of(toks: list, n: int) -> tuple[float, int]:
    if len(toks) < n:
        return 0.0, len(toks)
    total = len(toks) - n + 1
    # zip over shifted views builds the n-grams in C; 3x faster than slicing in a comprehension.
    unique = len(set(zip(*(toks[i:] for i in range(n)))))
    return (total - unique) / total, len(toks)
