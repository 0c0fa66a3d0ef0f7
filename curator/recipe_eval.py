"""The evaluation-loop stages of `curate run`: ``eval`` (`curate eval`), ``train-eval`` (`train eval
RUN --data ...`) and what they hand on — kept out of curator/recipe_run.py, which calls these hooks.

What a recipe gets:

- ``- train-eval: {name: eval1, data: eval.jsonl}`` scores the previous ``train`` stage's model
  (or ``run: "@LABEL"``) into the run folder's ``eval1/``: ``@eval1`` is its ``train_eval.json``
  (what ``compare`` takes), ``@eval1.badcases`` its ``badcases.jsonl``.
- ``- eval: {inputs: [pred.jsonl]}`` writes ``LABEL.json`` (``@LABEL``) and ``LABEL.badcases.jsonl``.
- A stage right after an eval stage that names no input reads its badcases (the mistakes are the
  records an eval stage hands on: ``- augment: {...}`` turns them into new prompts).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from curator.errors import UsageError

EVAL_STAGES = ("eval", "train-eval")


def stage_launch(command: str) -> tuple[str, list[str], list[str]]:
    """(module to run, its subcommand words, the words a user would type) for one stage."""
    if command == "train":
        return "trainer", [], ["train"]
    if command == "train-eval":
        return "trainer", ["eval"], ["train", "eval"]
    return "curator", [command], ["curate", command]


def train_eval_command(param_cls: Any, command_cls: Any) -> Any:
    """`train eval`'s parameters read from its own argparse parser (so recipe keys and the command
    line cannot drift apart), or None when the [train] extra is not installed."""
    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("peft") is None:
        return None
    from trainer.evaluate_cli import PATH_OPTIONS, build_parser

    params = []
    for action in build_parser()._actions:
        if action.dest == "help":
            continue
        if not action.option_strings:
            params.append(param_cls(action.dest, [action.dest], "argument", path=action.dest in PATH_OPTIONS))
        else:
            params.append(param_cls(action.dest, list(action.option_strings), path=action.dest in PATH_OPTIONS,
                                    is_flag=action.nargs == 0))
    return command_cls(params)


def eval_outputs(command: str, label: str, workdir: Path) -> dict[str, Path]:
    """What an eval stage writes: its report (the stage's ``data``) and its badcases."""
    if command == "train-eval":  # a folder: predictions, rejects, train_eval.json, badcases.jsonl
        return {"data": workdir / label / "train_eval.json", "badcases": workdir / label / "badcases.jsonl"}
    return {"data": workdir / f"{label}.json", "badcases": workdir / f"{label}.badcases.jsonl"}


def out_arg(command: str, outs: dict[str, Path]) -> Path:
    """The value of the stage's ``--out``: train eval takes the folder, everything else the file."""
    if command == "train-eval":
        return outs["data"].parent
    return outs.get("data", outs.get("model"))  # type: ignore[return-value]


def default_input(st: Any, recipe: Any, outputs: dict[str, dict[str, Path]], prev: str | None) -> list[str] | None:
    """The positional input of a stage that names none, where it is not simply ``@prev``."""
    if st.command == "train-eval":
        trains = [s.label for s in recipe.stages if s.command == "train" and s.index < st.index and s.label in outputs]
        if not trains:
            raise UsageError(f"stage {st.index} ({st.label}): no model to evaluate — give 'run' (a train OUT "
                             f"folder or \"@LABEL\") or put a train stage before it")
        return [f"@{trains[-1]}"]
    kinds = {s.label: s.command for s in recipe.stages}
    if prev is not None and kinds.get(prev) in EVAL_STAGES:
        return ["@prev.badcases"]  # the mistakes are what an eval stage hands on
    return None


def folder_stamp(path: Path) -> bytes:
    """Names, sizes and modification times of a folder's files: a model folder given to a stage
    (``run``, ``init_adapter``) changes the stage's fingerprint when it is trained again, without
    hashing gigabytes of weights."""
    parts = []
    for f in sorted(path.iterdir()):
        if f.is_file():
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts).encode()
