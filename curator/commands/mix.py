"""`curate mix FILE:RATIO... -o OUT` or `curate mix --config mix.yaml -o OUT`: blend sources at
requested shares (records or tokens), with capped up-sampling, temperature sampling and
stratification. See `curator.mix` for the method."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from curator.termout import console as _console
from rich.markup import escape
from rich.table import Table

from curator.commands import _options as o
from curator.errors import UsageError
from curator.i18n import tr
from curator.mix import MixConfig, MixPlan, load_config, parse_source_arg
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def mix(
        sources: Optional[list[str]] = typer.Argument(None, help="Sources as FILE:RATIO (e.g. domain.jsonl:0.8 "
                                                      "general.jsonl:0.2), or FILE alone to let --temperature decide."),
        out: Path = o.OUT,
        config: Optional[Path] = typer.Option(None, "--config", help="YAML with `sources:` (path, ratio, name, "
                                              "format) and any option below; command-line options override it."),
        by: Optional[str] = typer.Option(None, "--by", help="What the ratios measure: records (default) or tokens."),
        total: Optional[float] = typer.Option(None, "--total", help="Target size in --by units. Default: the "
                                              "largest size at which the ratios hold within --max-repeats (all of "
                                              "the scarcest source)."),
        max_repeats: Optional[int] = typer.Option(None, "--max-repeats", help="Most copies of one record when "
                                                  "up-sampling (default 1: never repeat)."),
        temperature: Optional[float] = typer.Option(None, "--temperature", help="With no ratios: shares ∝ "
                                                    "size^(1/T); 1 = natural sizes (default), larger = flatter."),
        stratify: Optional[str] = typer.Option(None, "--stratify", help="meta field (dotted) whose values keep "
                                               "their proportions inside each source, e.g. category."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed (default 0)."),
        tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="Local tokenizer path for --by tokens "
                                                "(default: estimate, CJK char ≈ 1 token, else 4 chars ≈ 1 token)."),
        from_: Optional[str] = o.FROM,
        encoding: Optional[str] = o.ENCODING,
        to: str = o.TO,
        reasoning: str = o.REASONING,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
        workers: str = o.WORKERS,
    ) -> None:
        """Mix sources at requested shares, e.g. 80% domain + 20% general data, deterministic by --seed."""
        from curator.tokencount import load_counter

        overrides = dict(by=by, total=total, max_repeats=max_repeats, temperature=temperature, stratify=stratify,
                         seed=seed, tokenizer=tokenizer)
        with usage_guard():
            o.check_engine(engine)
            n_workers = o.workers(workers)
            if config is not None:
                if sources:
                    raise UsageError("give sources either as arguments or in --config, not both")
                cfg = load_config(config, overrides)
            else:
                cfg = MixConfig([parse_source_arg(s) for s in sources or []],
                                **{k: v for k, v in overrides.items() if v is not None})
            for s in cfg.sources:
                if from_ and not s.fmt:
                    s.fmt = from_
            o.check_inputs([s.path for s in cfg.sources])
            wopts = o.write_options(reasoning)
            count = load_counter(cfg.tokenizer) if cfg.by == "tokens" else None
            params = dict(sources=[{"path": str(s.path), "ratio": s.ratio, "name": s.name} for s in cfg.sources],
                          config=str(config) if config else None, out=str(out), by=cfg.by, total=cfg.total,
                          max_repeats=cfg.max_repeats, temperature=cfg.temperature, stratify=cfg.stratify,
                          seed=cfg.seed, tokenizer=cfg.tokenizer, to=to, reasoning=reasoning, engine=engine,
                          workers=workers)
            run = CommandRun("mix", out=out, params=params, config=cfg, inputs=[s.path for s in cfg.sources],
                             max_error_rate=max_error_rate, out_format=to, write_opts=wopts)
        from curator.engine import run_whole_stage
        from curator.mix_run import MixStage

        with run:
            plan = run_whole_stage(engine, run, MixStage(cfg, encoding, count, to, wopts, n_workers), address=ray_address)
        if run.exit_code == 0 and run.manifest:
            print_table(run.extra["mix"], plan)
        raise typer.Exit(run.exit_code)


def print_table(comp: dict, plan: MixPlan) -> None:
    console = _console(stderr=True)
    by = comp["by"]
    table = Table(title=tr("mix by {by}: target {target:g}, achieved {achieved:g}", by=tr(by),
                          target=comp["total_target"], achieved=comp["total_achieved"]))
    cols = ["source", "valid", "requested", "achieved", f"out {by}", "max copies", "left out"]
    if by == "tokens":
        cols.insert(5, "out records")
    for col in cols:
        table.add_column(tr(col), justify="left" if col == "source" else "right")
    for r in comp["sources"]:
        flag = " [yellow](capped)[/]" if r["capped"] else ""
        cells = [escape(r["source"]) + flag, str(r["valid_records"]), f"{r['requested_share']:.1%}",
                 f"{r['achieved_share']:.1%}", f"{r['out_units']:g}", str(r["max_copies"]), str(r["left_out"])]
        if by == "tokens":
            cells.insert(5, str(r["out_records"]))
        table.add_row(*cells)
    console.print(table)
    rs = comp["reasoning"]
    if rs["mixed"]:
        console.print(tr("reasoning: {w} records with, {wo} without ({share:.1%} with) — a mixed reasoning / "
                         "non-reasoning set", w=rs["with"], wo=rs["without"], share=rs["share_with"]))
    for w in plan.warnings:
        console.print(f"[yellow]{tr('warning:')}[/] {escape(w)}", soft_wrap=True)
