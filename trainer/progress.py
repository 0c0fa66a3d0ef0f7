"""What `train` prints while it runs: one line per log step, not Hugging Face's raw dicts.

Transformers' `PrinterCallback` prints `{'loss': '1.682', 'grad_norm': …}`, with no step count
or ETA. `TrainProgress` replaces it: on a terminal a live Rich line (step/total, loss, eval
loss, ETA); piped, a plain line per log event (`step 10/20  loss 1.6820  eval loss 1.7010  ETA
0:12`), which reads well in a log file. `--no-progress` / CURATE_PROGRESS=0 keeps only the summary.
"""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback

from curator.progress_line import enabled, fmt_eta, wanted


class TrainProgress(TrainerCallback):
    def __init__(self) -> None:
        self.loss: float | None = None
        self.eval_loss: float | None = None
        self._t0 = 0.0
        self._step0 = 0
        self._progress: Any = None
        self._task: Any = None
        self._piped_lines = False

    def _eta(self, state) -> float | None:
        done = state.global_step - self._step0
        if done <= 0 or not state.max_steps:
            return None
        return (time.perf_counter() - self._t0) / done * (state.max_steps - state.global_step)

    def line(self, state) -> str:
        parts = [f"step {state.global_step}/{state.max_steps}"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        if self.eval_loss is not None:
            parts.append(f"eval loss {self.eval_loss:.4f}")
        parts.append(f"ETA {fmt_eta(self._eta(state))}")
        return "  ".join(parts)

    def on_train_begin(self, args, state, control, **kwargs):
        self._t0 = time.perf_counter()
        self._step0 = state.global_step
        if not state.is_world_process_zero:
            return
        from curator.runner import err_console

        if err_console.is_terminal and enabled():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(TextColumn("train"), BarColumn(bar_width=24), MofNCompleteColumn(),
                                      TextColumn("{task.fields[line]}"), console=err_console, transient=True)
            self._task = self._progress.add_task("train", total=state.max_steps, completed=state.global_step, line="")
            self._progress.start()
        else:
            self._piped_lines = wanted() is not False  # piped logs get a line per log step unless --no-progress

    def on_step_end(self, args, state, control, **kwargs):
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step, line=self._tail(state))

    def _tail(self, state) -> str:
        return self.line(state).split("  ", 1)[1] if "  " in self.line(state) else ""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        if "loss" in logs:
            self.loss = float(logs["loss"])
        if "eval_loss" in logs:
            self.eval_loss = float(logs["eval_loss"])
        if "loss" not in logs and "eval_loss" not in logs:
            return  # the end-of-training summary dict; `train` prints its own summary
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step, line=self._tail(state))
        elif self._piped_lines:
            from curator.runner import err_console

            err_console.print(self.line(state), markup=False, soft_wrap=True)

    def on_train_end(self, args, state, control, **kwargs):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
