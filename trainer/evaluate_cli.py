"""The argument parser of `train eval` (kept beside trainer/evaluate.py so trainer/cli.py gets a
two-line hook)."""

from __future__ import annotations

import argparse


def build_parser() -> argparse.ArgumentParser:
    """The parser, also read by `curate run` to check a `train-eval` stage's keys."""
    ap = argparse.ArgumentParser(prog="train eval", description="Answer an eval set and a sample of the training "
                                 "data with a trained model, score both (curate eval's metrics), and say whether "
                                 "the model overfits. Writes OUT/train_eval.json, predictions and badcases.jsonl.")
    ap.add_argument("run", help="a train OUT folder (LoRA adapter or full model) or a merged model")
    ap.add_argument("--data", required=True, help="eval records with reference answers (any format)")
    ap.add_argument("-o", "--out", help="folder for the results (default RUN/eval)")
    ap.add_argument("--train-sample", type=int, default=100, help="training records to score too (0 = none)")
    ap.add_argument("--train-data", action="append", help="training files (default: the run's train_config.yaml)")
    ap.add_argument("--base-url", help="score a server serving the trained model instead (vLLM, SGLang ...)")
    ap.add_argument("--model", help="with --base-url: the served model name")
    ap.add_argument("--api-key-env", default="OPENAI_API_KEY", help="with --base-url: variable holding the key")
    ap.add_argument("--base", help="base model folder for an adapter (default: from adapter_config.json)")
    ap.add_argument("--task", default="auto", help="auto, classification, extraction, generation, math")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (deterministic)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for intervals (0 = none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare", help="an earlier train_eval.json or eval.json: before/after deltas")
    return ap


# Options naming files or folders: a recipe's values for them are relative to the recipe file.
PATH_OPTIONS = {"run", "data", "out", "train_data", "base", "compare"}


def cmd_eval(argv: list[str]) -> int:
    a = build_parser().parse_args(argv)
    from rich.console import Console

    from trainer.evaluate import summary_lines, train_eval

    report = train_eval(a.run, a.data, out=a.out, train_samples=a.train_sample, train_data=a.train_data,
                        base_url=a.base_url, model=a.model, api_key_env=a.api_key_env, base=a.base,
                        max_new_tokens=a.max_new_tokens, temperature=a.temperature, batch_size=a.batch_size,
                        seed=a.seed, task=a.task, bootstrap=a.bootstrap, compare=a.compare)
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for line in summary_lines(report):
        console.print(line, markup=False)
    return 0
