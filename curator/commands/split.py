"""`curate split IN -o OUTDIR | --train T --eval E [--test X]`: deterministic, stratified, leak-free.

Two passes like dedup: pass 1 keeps a stratum code and the dedup sketches per record, pass 2
streams each record to its split's file. Held-out records are counted in the manifest as
"excluded: split:eval" etc. (they are not rejects), so in = train + eval + test + rejects holds
in the shared `counts.balanced` check; `split.counts` gives the per-split numbers directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def split(
        inputs: list[Path] = typer.Argument(..., help="Input files (split together, in the order given)."),
        outdir: Optional[Path] = typer.Option(None, "-o", "--out", help="Folder for train.jsonl, eval.jsonl "
                                              "(and test.jsonl)."),
        train: Optional[Path] = typer.Option(None, "--train", help="Train output file (instead of -o)."),
        eval_: Optional[Path] = typer.Option(None, "--eval", help="Eval output file (instead of -o)."),
        test: Optional[Path] = typer.Option(None, "--test", help="Test output file (instead of -o)."),
        eval_size: float = typer.Option(0.1, "--eval-size", help="Eval share (< 1) or count (>= 1)."),
        test_size: float = typer.Option(0.0, "--test-size", help="Test share (< 1) or count (>= 1); 0 = no test split."),
        stratify: Optional[str] = typer.Option(None, "--stratify", help="Dotted field to stratify by, e.g. "
                                               "meta.source or meta.tags (lists count as one combined label)."),
        seed: int = typer.Option(0, "--seed", help="Shuffle seed: same input + seed = same split."),
        leakage: str = typer.Option("move", "--leakage", help="Eval/test records near-duplicating another split: "
                                    "move (into train), report (list only), off (skip the check)."),
        leakage_on: str = typer.Option("prompt", "--leakage-on", help="Text compared for leakage: prompt, answer, "
                                       "conversation."),
        threshold: float = typer.Option(0.7, "--threshold", help="Near-duplicate threshold for leakage (as in dedup)."),
        report: Optional[Path] = typer.Option(None, "--report", help="Write leaking clusters to this JSONL."),
        workers: int = typer.Option(0, "--workers", help="Processes for signatures (0 = one per core)."),
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        to: str = o.TO,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
    ) -> None:
        """Split into train/eval(/test) by ratio or count, stratified and deterministic, without near-dup leakage."""
        from curator.errors import UsageError
        from curator.split import SplitConfig

        # the manifest keeps the names `out` and `eval` (the options' spellings), beside what Click bound
        # (and --map as the function got it: None when not given, where Click binds [])
        params = dict(mapping=mapping, out=str(outdir) if outdir else None, eval=str(eval_) if eval_ else None)
        with usage_guard():
            o.check_inputs(inputs)
            if outdir is None and (train is None or eval_ is None):
                raise UsageError("give -o OUTDIR, or --train FILE and --eval FILE")
            if outdir is not None and (train or eval_ or test):
                raise UsageError("give either -o OUTDIR or --train/--eval/--test, not both")
            cfg = SplitConfig(eval_size=eval_size, test_size=test_size, stratify=stratify, seed=seed, leakage=leakage,
                              leakage_on=leakage_on, threshold=threshold)
            if test_size > 0 and outdir is None and test is None:
                raise UsageError("--test-size needs --test FILE (or -o OUTDIR)")
            if outdir is not None:
                ext = ".jsonl"
                train, eval_ = outdir / f"train{ext}", outdir / f"eval{ext}"
                test = outdir / f"test{ext}" if test_size > 0 else None
            paths = {"train": train, "eval": eval_}
            if test is not None:
                paths["test"] = test
            ropts = o.read_options(mapping)
            run = CommandRun("split", out=train, params=params, config=cfg, inputs=inputs, max_error_rate=max_error_rate,
                             out_format=to, side_outputs=[(f"--{k}", v) for k, v in paths.items() if k != "train"]
                             + [("--report", report)])
        from curator.split import run_split

        with run:
            run_split(run, inputs, paths, dict(eval=cfg.eval_size, test=cfg.test_size), stratify=cfg.stratify,
                      seed=cfg.seed, leakage=cfg.leakage, leakage_on=cfg.leakage_on, threshold=cfg.threshold,
                      report=report, workers=workers, from_=from_, ropts=ropts, encoding=encoding, to=to)
        raise typer.Exit(run.exit_code)
