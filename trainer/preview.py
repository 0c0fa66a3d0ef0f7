"""`train --preview N`: show N examples exactly as the model will see them, trained tokens highlighted.

Rendering goes through the same `trainer.data` + `trainer.masking` path as training, so what is
shown is what is trained: the model's own template, byte for byte. The template check names the
mask source (the template's markers, TRL's training variant, or incremental rendering) and each
example says which one placed its assistant turns. On a terminal the trained tokens are highlighted in green and the prompt
is dimmed; when the output is not a terminal (a pipe, a log file, a test) trained spans are
wrapped in ``⟦ ⟧`` instead, so the mask stays visible in plain text.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from curator.io import ReadStats, read_records
from curator.rejects import RejectSink
from trainer.config import TrainConfig

OPEN, CLOSE = "⟦", "⟧"


def segments(ids: list[int], labels: list[int], tokenizer: Any) -> list[tuple[str, bool]]:
    """Consecutive (text, trained) spans of one example, decoded span by span."""
    out: list[tuple[str, bool]] = []
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or (labels[i] != -100) != (labels[start] != -100):
            out.append((tokenizer.decode(ids[start:i]), labels[start] != -100))
            start = i
    return out


def render(ids: list[int], labels: list[int], tokenizer: Any, *, markers: bool) -> Text:
    text = Text()
    for chunk, trained in segments(ids, labels, tokenizer):
        if markers:
            text.append(f"{OPEN}{chunk}{CLOSE}" if trained else chunk)
        else:
            text.append(chunk, style="bold green" if trained else "dim")
    return text


def preview(cfg: TrainConfig, n: int, console: Console | None = None) -> int:
    """Print the template check and `n` rendered examples. Returns the exit code."""
    from trainer.data import tokenize_records
    from trainer.masking import prepare_template
    from trainer.train import load_tokenizer

    cfg = cfg.resolved()
    console = console or Console(highlight=False, soft_wrap=True)
    markers = not console.is_terminal or console.no_color
    tokenizer = load_tokenizer(cfg.model)
    info = prepare_template(tokenizer, cfg.chat_template)
    console.rule("template check")
    for line in info.lines():
        console.print(line)
    console.print(f"reasoning={cfg.reasoning}  train_on={cfg.train_on}  max_length={cfg.max_length}")
    rejects = RejectSink(None, stage="train-preview")
    stats = ReadStats()
    convs = (c for p in cfg.data for c in read_records(p, rejects=rejects, stats=stats))
    shown = 0
    for conv, ex in tokenize_records(convs, tokenizer, info, reasoning=cfg.reasoning, train_on=cfg.train_on,
                                     max_length=cfg.max_length, rejects=rejects):
        trained = sum(1 for x in ex["labels"] if x != -100)
        where = f"{conv.origin[0]}:{conv.origin[1]}" if conv.origin else conv.id
        console.rule(f"{where}  ({len(ex['input_ids'])} tokens, {trained} trained, mask: {ex['mask_source']})")
        console.print(render(ex["input_ids"], ex["labels"], tokenizer, markers=markers))
        shown += 1
        if shown >= n:
            break
    console.rule()
    legend = f"trained tokens are inside {OPEN} {CLOSE}" if markers else "trained tokens are green"
    console.print(f"{shown} example(s) shown; {legend}; {len(rejects)} record(s) would be rejected so far")
    for reason, exs in rejects.examples.items():
        console.print(f"  {reason}: {rejects.counts[reason]}  e.g. {exs[0]['message']}")
    return 0 if shown else 2
