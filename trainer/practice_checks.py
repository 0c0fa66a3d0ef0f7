"""Practice checks for a training run: `train --check` (print and exit) and the start of `train`.

Collects the facts the pure checks in `curator.practice.training` need, the way training will see
the data: token lengths from the run's own tokenizer and chat template (the same rendering as
training, on a deterministic sample of at most `max_length_cut.sample` records), the eval split
training will use (`--eval`, or the `eval_ratio` hold-out by id hash) and the overlap of its
prompts with the training prompts (MinHash, as `curate split` checks leakage). Also runs the data
checks on the training data, and, after a run, the after-training checks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import xxhash

from curator.errors import UsageError
from curator.practice import PracticeConfig, PracticeFacts, data_checks, load_practice_config
from curator.practice.checks import Check
from curator.practice.coverage import NearIndex, prompt_of
from curator.practice.dataset import badcase_checks, read_quietly
from curator.practice.render import lines
from curator.practice.task import detect_complexity, detect_task
from curator.practice.training import TrainFacts, after_training_checks, training_checks
from curator.record import Conversation
from curator.report.accum import LogHistogram
from trainer.config import TrainConfig

_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*[bB](?![a-zA-Z])")


def model_size_b(model: str) -> float | None:
    """Parameters in billions: from the name ("Qwen2.5-72B-Instruct"), else estimated from the
    folder's config.json (embeddings + layers of attention and MLP), else unknown."""
    m = _SIZE.search(Path(model).name)
    if m:
        return float(m.group(1))
    p = Path(model) / "config.json"
    try:
        c = json.loads(p.read_text(encoding="utf-8"))
        h, n, v = int(c["hidden_size"]), int(c["num_hidden_layers"]), int(c["vocab_size"])
        i = int(c.get("intermediate_size", 4 * h))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (n * (4 * h * h + 3 * h * i) + 2 * v * h) / 1e9


def _records(paths: list[str]) -> Iterator[Conversation]:
    for p in paths:
        if not Path(p).exists():
            raise UsageError(f"{p}: no such file")
        yield from read_quietly(p)


def _sampled(key: str, keep: float) -> bool:
    return keep >= 1 or xxhash.xxh3_64_intdigest(key.encode("utf-8", "surrogatepass")) < keep * 2 ** 64


def _length_counter(cfg: TrainConfig) -> Callable[[Conversation], int | None]:
    """Record -> tokens as training renders it (None when the template cannot render it)."""
    from curator.errors import RowError
    from trainer.chat_rows import to_messages
    from trainer.masking import build_example, prepare_template
    from trainer.train import load_tokenizer

    tok = load_tokenizer(cfg.model)
    info = prepare_template(tok, cfg.chat_template)

    def count(conv: Conversation) -> int | None:
        # the row exactly as training builds it (trainer.data.tokenize_records)
        row = to_messages(conv, reasoning=cfg.reasoning, reasoning_key=info.reasoning_key, arguments=info.arguments,
                          content_blocks=info.content_blocks)
        try:
            return len(build_example(row, tok, info, train_on=cfg.train_on, max_length=None)["input_ids"])
        except RowError:
            return None

    return count


def collect(cfg: TrainConfig, pcfg: PracticeConfig) -> tuple[list[Check], list[Check]]:
    """(data checks on the training data, training-config checks)."""
    from trainer.data import eval_indices

    cfg = cfg.resolved()
    if not cfg.data:
        raise UsageError("no training data given")
    st = PracticeFacts(pcfg)
    ids: list[str] = []
    for conv in _records(cfg.data):  # pass 1: data statistics and ids (for the hold-out)
        st.add(conv)
        ids.append(conv.id)
    held = set() if cfg.eval else eval_indices(ids, cfg.eval_ratio, cfg.seed)
    n_train = len(ids) - len(held)
    sample = pcfg.t("max_length_cut")["sample"]
    keep = sample / n_train if n_train > sample else 1.0
    count = _length_counter(cfg)
    lengths = LogHistogram()
    over = 0
    thr = pcfg.t("eval_overlap")["threshold"]
    evals = list(_records([cfg.eval])) if cfg.eval else []
    if held:  # the hold-out is small; keep its records for the overlap index
        evals = [c for i, c in enumerate(_records(cfg.data)) if i in held]
    index = NearIndex([c.id for c in evals], [prompt_of(c) for c in evals], thr) if evals else None
    batch_ids: list[str] = []
    batch_texts: list[str] = []
    for i, conv in enumerate(_records(cfg.data)):  # pass 2: lengths and overlap, training side only
        if i in held:
            continue
        if _sampled(conv.id, keep):
            n = count(conv)
            if n is not None:
                lengths.add(n)
                over += n > cfg.max_length
        if index is not None:
            batch_ids.append(conv.id)
            batch_texts.append(prompt_of(conv))
            if len(batch_ids) >= 4096:
                index.scan(batch_ids, batch_texts)
                batch_ids, batch_texts = [], []
    if index is not None and batch_ids:
        index.scan(batch_ids, batch_texts)
    task, _ = detect_task(st)
    complexity, why = detect_complexity(st, task, pcfg.complexity)
    facts = TrainFacts(
        method=cfg.method, learning_rate=float(cfg.learning_rate or 0), epochs=cfg.epochs, max_steps=cfg.max_steps,
        batch_size=cfg.batch_size, grad_accum=cfg.grad_accum, lora_r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
        eval_file=cfg.eval, eval_ratio=cfg.eval_ratio, packing=cfg.packing, max_length=cfg.max_length,
        n_train=n_train, task=task, complexity=complexity, complexity_why=why, model_params_b=model_size_b(cfg.model),
        multi_turn_share=st.share(st.multi_turn), median_tokens=lengths.quantile(0.5) if lengths.n else 0.0,
        p99_tokens=lengths.quantile(0.99) if lengths.n else 0.0, lengths_n=lengths.n, lengths_over=over,
        eval_overlap=index.result() if index is not None else None)
    data = data_checks(st, pcfg) + (badcase_checks(pcfg, cfg.data[0]) if len(cfg.data) == 1 else [])
    return data, training_checks(facts, pcfg)


def practice_config(cfg: TrainConfig) -> PracticeConfig:
    return load_practice_config(cfg.practice_config).with_task(cfg.task)


def print_checks(cfg: TrainConfig, echo: Callable[[str], Any]) -> tuple[list[Check], list[Check]]:
    """Run and print the before-training checks; returns them."""
    if not cfg.model:
        raise UsageError("no model: pass --model PATH (its tokenizer measures the token lengths)")
    pcfg = practice_config(cfg)
    data, train = collect(cfg, pcfg)
    for line in lines([c.to_dict() for c in data], title="Practice checks, training data"):
        echo(line)
    for line in lines([c.to_dict() for c in train], title="Practice checks, training config"):
        echo(line)
    return data, train


def print_after(cfg: TrainConfig, echo: Callable[[str], Any]) -> list[Check]:
    """The after-training checks on the run folder."""
    checks = after_training_checks(cfg.out, practice_config(cfg))
    for line in lines([c.to_dict() for c in checks], title="Practice checks, after training"):
        echo(line)
    return checks


def check_command(cfg: TrainConfig) -> int:
    """`train --check`: the before-training checks when DATA is given, the after-training checks
    when -o OUT is a finished run (e.g. after `train eval`); never trains. Exit 0."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    echo = lambda line: console.print(line, markup=False)  # noqa: E731
    finished = bool(cfg.out) and (Path(cfg.out) / "metrics.jsonl").is_file()
    if not cfg.data and not finished:
        raise UsageError("nothing to check: pass DATA and --model (before training), or -o OUT of a finished run "
                         "(after training)")
    if cfg.data:
        print_checks(cfg, echo)
    if finished:
        print_after(cfg, echo)
    return 0
