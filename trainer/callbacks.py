"""Trainer callbacks: metrics.jsonl, and a plain-language overfitting warning.

Early stopping and "keep the best checkpoint" are transformers' own (`EarlyStoppingCallback`,
``load_best_model_at_end``); these callbacks only add what it lacks: a log a person can read or
plot after the run, and a warning when the two loss curves part ways.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class MetricsLog(TrainerCallback):
    """Appends every log entry (train loss, eval loss, learning rate...) to ``metrics.jsonl``.

    On resume, entries past the checkpoint's step are dropped first, so the file reads as one run.
    """

    def __init__(self, path: str | Path, resume_step: int | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept: list[str] = []
        if resume_step is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip() and json.loads(line).get("step", 0) <= resume_step:
                    kept.append(line)
        self.path.write_text("".join(k + "\n" for k in kept), encoding="utf-8")

    def write(self, entry: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            entry = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
            entry.update({k: (round(v, 6) if isinstance(v, float) else v) for k, v in logs.items()})
            self.write(entry)


class OverfitWatch(TrainerCallback):
    """Warns once when eval loss has risen for `rises` evaluations in a row while train loss fell.

    That pattern means the model is memorising the training set: more steps make it worse on
    new data. The warning names the best step so far (the checkpoint that is kept).
    """

    def __init__(self, metrics: MetricsLog | None = None, rises: int = 2):
        self.metrics = metrics
        self.rises = rises
        self.evals: list[tuple[int, float, float | None]] = []  # step, eval loss, last train loss
        self.last_train: float | None = None
        self.warned = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs:
            return
        if "loss" in logs:
            self.last_train = float(logs["loss"])
        if "eval_loss" in logs:
            self.evals.append((state.global_step, float(logs["eval_loss"]), self.last_train))
            self._check(state)

    def _check(self, state) -> None:
        if self.warned or len(self.evals) < self.rises + 1:
            return
        window = self.evals[-(self.rises + 1):]
        eval_up = all(b[1] > a[1] for a, b in zip(window, window[1:]))
        trains = [w[2] for w in window]
        train_down = None not in trains and trains[-1] < trains[0]
        if eval_up and train_down:
            best = min(self.evals, key=lambda e: e[1])
            msg = (f"overfitting: eval loss rose {window[0][1]:.4f} -> {window[-1][1]:.4f} over the last {self.rises} "
                   f"evaluations while train loss fell {trains[0]:.4f} -> {trains[-1]:.4f}. The best checkpoint "
                   f"(step {best[0]}, eval loss {best[1]:.4f}) is kept; consider fewer epochs, a lower learning "
                   f"rate or more data.")
            print(f"WARNING {msg}", file=sys.stderr, flush=True)
            if self.metrics is not None and state.is_world_process_zero:
                self.metrics.write({"step": state.global_step, "event": "overfitting", "message": msg})
            self.warned = True
