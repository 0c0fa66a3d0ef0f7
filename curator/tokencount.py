"""Token counts for records: a real tokenizer when given, else a character estimate.

The estimate (used by `curate mix --by tokens` and `curate report` without `--tokenizer`):
each CJK character (Han, kana, Hangul) counts as one token, and every other run of text as one
token per 4 characters (rounded up). That is the usual rule of thumb for BPE tokenizers of
Qwen/Llama class on Chinese and English; it is within ~20-30% of a real tokenizer and, more
importantly for mixing, it is consistent across sources.

A tokenizer path is loaded lazily with `transformers.AutoTokenizer` (only when asked, so
importing `curator` never imports transformers).
"""

from __future__ import annotations

import re
from typing import Callable

from curator.record import Conversation

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def estimate_tokens(text: str) -> int:
    """CJK characters count 1 each, other text ~4 characters per token."""
    if not text:
        return 0
    if text.isascii():  # no CJK possible: skip the scan (most English text)
        return (len(text) + 3) // 4
    cjk = len(_CJK.findall(text))
    other = len(text) - cjk
    return cjk + (other + 3) // 4


def record_text_parts(conv: Conversation) -> list[str]:
    """The texts a model is trained on: every message's content and reasoning, and tool-call arguments."""
    parts: list[str] = []
    for m in conv.messages:
        if m.content:
            parts.append(m.content)
        if m.reasoning:
            parts.append(m.reasoning)
        if m.tool_calls:
            parts.append(repr(m.tool_calls))
    return parts


def load_counter(tokenizer: str | None) -> Callable[[str], int]:
    """A text -> token count function: the tokenizer at `tokenizer` (a local path), or the estimate."""
    if not tokenizer:
        return estimate_tokens
    from curator.errors import UsageError

    try:
        from transformers import AutoTokenizer  # heavy: imported only when a tokenizer is asked for
    except ImportError as e:  # pragma: no cover - depends on the install
        raise UsageError("--tokenizer needs transformers: pip install 'sft-curator[train]'") from e
    from curator.hub import check_model

    check_model(tokenizer, "--tokenizer")
    try:
        tok = AutoTokenizer.from_pretrained(tokenizer)
    except Exception as e:  # any load failure is a user-side path problem
        raise UsageError(f"--tokenizer {tokenizer}: cannot load a tokenizer there ({e.__class__.__name__}: {e})") from e

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"]) if text else 0

    return count


def record_tokens(conv: Conversation, count: Callable[[str], int] = estimate_tokens) -> int:
    return sum(count(t) for t in record_text_parts(conv))
