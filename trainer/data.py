"""Curated records -> tokenized training rows: reading through `curator.io.read_records` (every
format the curator reads; bad rows land in the same rejects file with file:line and a fix), the
held-out split, and tokenization with the loss mask. How one record becomes the chat-template
row is `trainer.chat_rows`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Iterator

import xxhash

from curator.record import Conversation
from trainer.chat_rows import to_messages


def eval_indices(keys: Iterable[str], ratio: float, seed: int) -> set[int]:
    """Which records go to evaluation: the ceil(ratio x n) with the smallest seeded hash of their id.

    Hashing ids (not positions) keeps the split stable when the file is reordered or grows, and
    the ceiling keeps at least one eval record on small sets so early stopping has a signal.
    """
    if ratio <= 0:
        return set()
    scored = sorted((xxhash.xxh3_64_intdigest(f"{seed}\x1f{k}".encode("utf-8", "surrogatepass")), i) for i, k in enumerate(keys))
    n = len(scored)
    if n < 2:
        return set()
    k = min(n - 1, max(1, math.ceil(ratio * n)))
    return {i for _, i in scored[:k]}


def read_inputs(run: Any, paths: Iterable[str | Path]) -> Iterator[Conversation]:
    """Every record of every path through the run's reader (bad rows go to the run's rejects)."""
    for p in paths:
        yield from run.read(p)


def tokenize_records(convs: Iterable[Conversation], tokenizer: Any, info: Any, *, reasoning: str, train_on: str,
                     max_length: int | None, rejects: Any) -> Iterator[tuple[Conversation, dict[str, list[int]]]]:
    """(record, {"input_ids", "labels"}) for each record that has something to train; the others
    go to `rejects` with the reason (weight-0 only, too long, a template that cannot render it)."""
    from curator.errors import RowError
    from trainer.masking import build_example

    for conv in convs:
        row = to_messages(conv, reasoning=reasoning, reasoning_key=info.reasoning_key, arguments=info.arguments,
                          content_blocks=info.content_blocks)
        try:
            yield conv, build_example(row, tokenizer, info, train_on=train_on, max_length=max_length)
        except RowError as e:
            rejects.reject(conv, e.code, e.sentence())
