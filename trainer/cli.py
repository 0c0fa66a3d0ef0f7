"""`train` (also `python -m trainer`, and `accelerate launch -m trainer ...` for several GPUs).

    train DATA... -o OUT --model PATH [--config train.yaml] [--flag value ...] [key=value ...]
    train DATA... --model PATH --preview N
    train merge OUT -o MERGED
    train generate OUT --prompts eval.jsonl -o outputs.jsonl
    train eval OUT --data eval.jsonl [--train-sample N] [--compare OLD/train_eval.json]
    train make-tiny OUT [--kind causal|reward]

The training flags are generated from `trainer.config.TrainConfig`, so --help shows its
docstrings and defaults. argparse rather than typer here because the flag set is data (the
dataclass), and `key=value` overrides mix with DATA paths in the positional list.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from curator.errors import UsageError

SUBCOMMANDS = ("merge", "generate", "eval", "make-tiny")


def _err(msg: str) -> int:
    from rich.markup import escape

    from curator.termout import console

    console(stderr=True).print(f"[bold red]error:[/] {escape(msg)}", soft_wrap=True)
    return 2


def train_parser() -> argparse.ArgumentParser:
    from trainer.config import TrainConfig, field_help

    helps = field_help()
    ap = argparse.ArgumentParser(
        prog="train", description="Supervised fine-tuning on curated data (TRL SFTTrainer + PEFT). "
        "Subcommands: merge, generate, eval, make-tiny (see `train SUBCOMMAND --help`).",
        epilog="Values: defaults < --config YAML < --flags < key=value. Several GPUs: "
               "accelerate launch -m trainer DATA ... (see docs/train.md).")
    ap.add_argument("inputs", nargs="*", metavar="DATA|key=value", help="training data files, then key=value overrides")
    ap.add_argument("--config", help="YAML file of config keys (read with yaml.safe_load)")
    ap.add_argument("--preview", type=int, metavar="N", help="render N examples with trained tokens highlighted; no training")
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="progress on stderr (step/total, loss, eval loss, ETA): a live line on a terminal, a line "
                    "per logging step when piped; --no-progress prints only the summary")
    ap.add_argument("--check", action="store_true", help="print the practice checks (data and config vs the "
                    "field's rules of thumb, docs/practice.md) and exit without training")
    for f in dataclasses.fields(TrainConfig):
        if f.name == "data":
            continue
        flags = [f"--{f.name.replace('_', '-')}"] + (["-o"] if f.name == "out" else [])
        default = f.default if f.default is not dataclasses.MISSING else None
        text = f"{helps.get(f.name, '')} (default: {default})".replace("%", "%%")
        if str(f.type).startswith("bool"):
            ap.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text)
        else:
            ap.add_argument(*flags, dest=f.name, default=argparse.SUPPRESS, metavar=f.name.upper(), help=text)
    return ap


def config_from_args(ns: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from trainer.config import build_config, load_yaml, parse_overrides

    flags = {k: v for k, v in vars(ns).items() if k not in ("inputs", "config", "preview", "progress", "check")}
    data = [x for x in ns.inputs if "=" not in x or Path(x).exists()]
    overrides = parse_overrides([x for x in ns.inputs if x not in data])
    given = {**flags, **overrides}
    layers: list[dict[str, Any]] = []
    resume = given.get("resume_from")
    if resume:  # a resumed run starts from the config it was started with
        used = Path(resume) / "train_config.yaml"
        if used.exists():
            base = load_yaml(used)
            base.pop("resume_from", None)
            layers.append(base)
        layers.append({"out": resume})
    if ns.config:
        layers.append(load_yaml(ns.config))
    if data:
        layers.append({"data": data})
    layers += [flags, overrides]
    cfg = build_config(*layers)
    return cfg, {"config": ns.config, **{k: str(v) for k, v in given.items()}, "data": cfg.data}


def cmd_train(argv: list[str]) -> int:
    ns = train_parser().parse_intermixed_args(argv)
    if ns.progress is not None:
        import os

        os.environ["CURATE_PROGRESS"] = "1" if ns.progress else "0"
    cfg, params = config_from_args(ns)
    if ns.check:
        from trainer.practice_checks import check_command

        return check_command(cfg)
    if not cfg.model:
        raise UsageError("no model: pass --model PATH (a local folder; `train make-tiny OUT` builds a tiny one)")
    from curator.hub import check_model

    check_model(cfg.model)  # before torch/transformers/TRL load: an unreachable hub costs one line, not a minute
    if ns.preview is not None:
        from trainer.preview import preview

        if not cfg.data:
            raise UsageError("no data to preview: pass DATA files")
        return preview(cfg, ns.preview)
    from rich.console import Console

    from trainer.train import run, summary_lines

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if cfg.practice:
        from trainer.practice_checks import print_checks

        print_checks(cfg, lambda line: console.print(line, markup=False))
    summary = run(cfg, params)
    for line in summary_lines(summary):
        console.print(line, markup=False)
    if cfg.practice and summary["exit_code"] == 0:
        from trainer.practice_checks import print_after

        print_after(cfg, lambda line: console.print(line, markup=False))
    return summary["exit_code"]


def _out_option(ap: argparse.ArgumentParser, help: str) -> None:
    """`-o/--out` like every other command; `--output` (the old spelling) still works, unlisted."""
    ap.add_argument("-o", "--out", dest="dest_out", metavar="OUT", help=help)
    ap.add_argument("--output", dest="dest_out", help=argparse.SUPPRESS)


def _required_out(ap: argparse.ArgumentParser, a: argparse.Namespace) -> str:
    if not a.dest_out:
        ap.error("the following arguments are required: -o/--out")
    return a.dest_out


def cmd_merge(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="train merge", description="Merge a LoRA adapter (a train OUT folder) into its base model.")
    ap.add_argument("out", help="the OUT folder of a LoRA run")
    _out_option(ap, "folder for the merged model")
    ap.add_argument("--base", help="base model folder (default: the one recorded in adapter_config.json)")
    a = ap.parse_args(argv)
    from trainer.merge import merge

    print(f"merged model written to {merge(a.out, _required_out(ap, a), a.base)}")
    return 0


def cmd_generate(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="train generate", description="Answer held-out prompts with a trained model; "
                                 "writes canonical records for `curate review`.")
    ap.add_argument("out", help="a train OUT folder (LoRA adapter or full model) or a merged model")
    ap.add_argument("--prompts", required=True, help="prompt records (any format; answers, if any, become meta.reference)")
    _out_option(ap, "output records (.jsonl, .json, .parquet ...)")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (deterministic)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--base", help="base model folder for an adapter (default: from adapter_config.json)")
    a = ap.parse_args(argv)
    from trainer.generate import generate

    return generate(a.out, a.prompts, _required_out(ap, a), max_new_tokens=a.max_new_tokens, temperature=a.temperature,
                    batch_size=a.batch_size, seed=a.seed, base=a.base)


def cmd_eval(argv: list[str]) -> int:
    from trainer.evaluate_cli import cmd_eval as run

    return run(argv)


def cmd_make_tiny(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="train make-tiny", description="Build a tiny offline Qwen2 model + tokenizer "
                                 "(ChatML template with {% generation %} markers) for tests and demos.")
    ap.add_argument("out")
    ap.add_argument("--kind", choices=["causal", "reward"], default="causal")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup-steps", type=int, default=300,
                    help="steps of chat-format training on the sample data so answers end with the "
                         "end-of-turn token (causal only; 0 = random weights)")
    a = ap.parse_args(argv)
    from trainer.tiny import build_tiny_model, warm_up

    path = build_tiny_model(a.out, kind=a.kind, seed=a.seed)
    if a.kind == "causal" and a.warmup_steps > 0:
        loss = warm_up(path, steps=a.warmup_steps, seed=a.seed)
        print(f"warm-up: {a.warmup_steps} steps, final loss {loss:.3f}")
    print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    handlers = {"merge": cmd_merge, "generate": cmd_generate, "eval": cmd_eval, "make-tiny": cmd_make_tiny}
    handler = handlers.get(argv[0]) if argv else None
    try:
        return handler(argv[1:]) if handler else cmd_train(argv)
    except UsageError as e:
        return _err(str(e))
    except ImportError as e:  # torch/transformers/TRL/PEFT missing: name the extra, no traceback
        from curator.extras import missing_extra_message

        msg = missing_extra_message(e, "train")
        if msg is None:
            raise
        return _err(msg)
    except KeyboardInterrupt:
        return _err("interrupted")


def app(argv: list[str] | None = None, prog_name: str = "train") -> None:
    """Console-script entry point (`train = trainer.cli:app`)."""
    sys.exit(main(argv))
