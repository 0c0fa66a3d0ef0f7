"""Curated records -> the conversational rows TRL and chat templates take.

Reading goes through `curator.io.read_records`, so training accepts every format the curator
reads and bad rows land in the same rejects file with file:line and a fix. Each record becomes a
``{"messages": [...], "tools": [...]}`` row in TRL's conversational shape; per-message `weight`
and `reasoning_content` stay on the message dicts (templates ignore keys they do not use, and
`trainer.masking` reads the weights).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Iterator

import xxhash

from curator.formats.common import DEFAULT_WRITE, join_think
from curator.record import Conversation


def to_messages(conv: Conversation, *, reasoning: str = "keep", inline_reasoning: bool = False) -> dict[str, Any]:
    """One record as a TRL conversational row.

    `reasoning="drop"` removes the chain of thought (the model learns to answer directly).
    `inline_reasoning=True` is for templates that ignore ``reasoning_content``: the reasoning is
    then written into the content as an R1-style ``<think>`` block, so it is still rendered inside
    the assistant turn and trained on, instead of vanishing silently.
    """
    msgs: list[dict[str, Any]] = []
    for m in conv.messages:
        keep = m.role == "assistant" and bool(m.reasoning) and reasoning == "keep"
        d = m.to_dict(reasoning=keep and not inline_reasoning)
        if keep and inline_reasoning:
            d["content"] = join_think(m.reasoning, m.content, DEFAULT_WRITE)
        msgs.append(d)
    return {"messages": msgs, "tools": conv.tools}


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
    go to `rejects` with the reason (weight-0 only, too long, template mismatch)."""
    from curator.errors import RowError
    from trainer.masking import build_example

    for conv in convs:
        row = to_messages(conv, reasoning=reasoning, inline_reasoning=not info.reasoning_native)
        try:
            yield conv, build_example(row, tokenizer, info, train_on=train_on, max_length=max_length)
        except RowError as e:
            rejects.reject(conv, e.code, e.sentence())
