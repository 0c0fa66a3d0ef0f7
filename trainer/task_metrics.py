"""`eval_generate_every=N`: every N optimizer steps, the model being trained answers a small
held-out set and curate eval's task metrics (accuracy, field F1, ROUGE-L ...) are logged to
``metrics.jsonl`` beside the eval loss — loss is only a hint for generative tasks, and a
classification model's accuracy can stop rising while its loss still falls. A few of the
answers are kept per step in ``OUT/samples/step-N.jsonl`` so a person can read what changed.

Generation reuses `trainer.generate.answer` (batched, greedy). It switches the model to eval
mode and the tokenizer to left padding; both are put back before training resumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from curator.record import Conversation


class _Collect:
    """A run-like sink for `answer`: keeps the records in memory (the held-out set is small)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def write(self, conv: Conversation) -> bool:
        self.rows.append(conv.to_dict())
        return True


def held_out(path: str, n: int, seed: int) -> list[Conversation]:
    """Up to `n` records with a reference answer from `path`, drawn with a seeded RNG."""
    import random

    from curator.io import read_records
    from curator.rejects import RejectSink

    recs = [c for c in read_records(path, rejects=RejectSink(None)) if c.last("assistant") is not None]
    return sorted(random.Random(seed).sample(recs, min(n, len(recs))), key=lambda c: c.id)


def task_metrics(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{task: {metric: value}} of generated rows (no intervals: this runs inside training)."""
    from curator.errors import RowError
    from curator.evaluate.examples import to_example
    from curator.evaluate.run import EvalConfig, evaluate

    examples = []
    for i, row in enumerate(rows, 1):
        try:
            examples.append(to_example(row, i, "held-out"))
        except RowError:
            continue
    res, _ = evaluate(examples, EvalConfig(bootstrap=0))
    return {t: {m: round(v["value"], 6) for m, v in r["metrics"].items()} for t, r in res["tasks"].items()}


class TaskMetrics(TrainerCallback):
    def __init__(self, convs: list[Conversation], every: int, metrics_log: Any, out: str | Path, *,
                 max_new_tokens: int = 64, keep_samples: int = 4):
        self.convs, self.every, self.log = convs, every, metrics_log
        self.samples = Path(out) / "samples"
        self.max_new_tokens, self.keep = max_new_tokens, keep_samples

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if not self.convs or state.global_step % self.every or not state.is_world_process_zero:
            return
        import orjson

        from trainer.generate import answer

        tok = processing_class
        side, was_training = tok.padding_side, model.training
        sink = _Collect()
        try:
            answer(sink, model, tok, iter(self.convs), max_new_tokens=self.max_new_tokens, temperature=0.0,
                   batch_size=8, seed=args.seed, model_name=f"step {state.global_step}")
        finally:
            tok.padding_side = side
            if was_training:
                model.train()
        metrics = task_metrics(sink.rows)
        entry: dict[str, Any] = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
        for task, ms in metrics.items():
            for m, v in ms.items():
                entry[f"task/{task}/{m}"] = v
        self.log.write(entry)
        self.samples.mkdir(parents=True, exist_ok=True)
        (self.samples / f"step-{state.global_step}.jsonl").write_bytes(
            b"".join(orjson.dumps(r) + b"\n" for r in sink.rows[: self.keep]))
