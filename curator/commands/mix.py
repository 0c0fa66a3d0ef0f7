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
from curator.io import read_records
from curator.mix import MixConfig, MixPlan, emit, index_source, load_config, parse_source_arg, plan_mix
from curator.rejects import RejectSink
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
    ) -> None:
        """Mix sources at requested shares, e.g. 80% domain + 20% general data, deterministic by --seed."""
        from curator.tokencount import load_counter

        overrides = dict(by=by, total=total, max_repeats=max_repeats, temperature=temperature, stratify=stratify,
                         seed=seed, tokenizer=tokenizer)
        with usage_guard():
            o.check_engine(engine)
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
                          seed=cfg.seed, tokenizer=cfg.tokenizer, to=to, reasoning=reasoning, engine=engine)
            run = CommandRun("mix", out=out, params=params, inputs=[s.path for s in cfg.sources],
                             max_error_rate=max_error_rate, out_format=to, write_opts=wopts)
        with run:
            if engine == "ray":
                from curator.engine.ray_mix import run_mix_ray

                plan, indexes, written, with_reasoning = run_mix_ray(run, cfg, encoding=encoding, address=ray_address,
                                                                     out_format=to, write_opts=wopts)
            else:
                plan, indexes, written, with_reasoning = _mix_local(run, cfg, encoding, count)
            units = [0.0] * len(cfg.sources)
            # achieved units and reasoning shares, from the plan's multiplicities (no second count needed)
            for i, (sp, ix) in enumerate(zip(plan.sources, indexes)):
                units[i] = float(sum(sp.mult)) if cfg.by == "records" else sum(m * w for m, w in zip(sp.mult, ix.weights))
                left_out = sum(1 for m in sp.mult if m == 0)
                copies = sum(m - 1 for m in sp.mult if m > 1)
                if left_out:
                    run.exclude(f"not_sampled:{sp.name}", left_out)
                if copies:
                    run.add_copies(f"repeat:{sp.name}", copies)
            run.extra["mix"] = composition(plan, written, units, with_reasoning, cfg)
            for w in plan.warnings:
                run.extra.setdefault("mix_warnings", []).append(w)
        if run.exit_code == 0 and run.manifest:
            print_table(run.extra["mix"], plan)
        raise typer.Exit(run.exit_code)


def _mix_local(run: CommandRun, cfg: MixConfig, encoding: Optional[str], count) -> tuple:
    """The single-process body: index (pass 1), plan, emit (pass 2). Returns (plan, indexes,
    written per source, records with reasoning per source)."""
    # pass 1: weights and strata only; invalid rows become this run's rejects here, once
    indexes = [index_source(s.name, run.read(s.path, s.fmt, encoding=encoding), by=cfg.by,
                            count=count or (lambda t: 0), stratify=cfg.stratify) for s in cfg.sources]
    plan = plan_mix(cfg, indexes)

    def opener(s):  # pass 2 re-reads; its read errors were already counted in pass 1
        return lambda: read_records(s.path, s.fmt, encoding=encoding, rejects=RejectSink(None))

    written = [0] * len(cfg.sources)
    with_reasoning = [0] * len(cfg.sources)
    for i, conv in emit(plan, [opener(s) for s in cfg.sources]):
        if run.write(conv):
            written[i] += 1
            with_reasoning[i] += any(m.reasoning for m in conv.messages)
    return plan, indexes, written, with_reasoning


def composition(plan: MixPlan, written: list[int], units: list[float], with_reasoning: list[int],
                cfg: MixConfig) -> dict:
    tot_units = sum(units) or 1.0
    rows = []
    for sp, w, u, r in zip(plan.sources, written, units, with_reasoning):
        rows.append({
            "source": sp.name, "valid_records": sp.n, "available": round(sp.size, 3),
            "requested_share": round(sp.requested_share, 6), "achieved_share": round(u / tot_units, 6),
            "out_units": round(u, 3), "out_records": w, "max_copies": sp.max_copies,
            "left_out": sum(1 for m in sp.mult if m == 0), "capped": sp.capped, "out_with_reasoning": r,
        })
    n_out = sum(written)
    n_reason = sum(with_reasoning)
    # reasoning and non-reasoning records in one set is fine, but it changes what the model learns
    # to do by default, so say it
    reasoning = {"with": n_reason, "without": n_out - n_reason,
                 "share_with": round(n_reason / n_out, 6) if n_out else 0.0,
                 "mixed": 0 < n_reason < n_out}
    return {"by": cfg.by, "reasoning": reasoning, "total_target": round(plan.total, 3), "total_achieved": round(sum(units), 3),
            # not "token..." keys: the manifest scrubber hides any key that looks like a secret token
            "counted_with": (cfg.tokenizer or "estimate") if cfg.by == "tokens" else None, "sources": rows}


def print_table(comp: dict, plan: MixPlan) -> None:
    console = _console(stderr=True)
    by = comp["by"]
    table = Table(title=f"mix by {by}: target {comp['total_target']:g}, achieved {comp['total_achieved']:g}")
    cols = ["source", "valid", "requested", "achieved", f"out {by}", "max copies", "left out"]
    if by == "tokens":
        cols.insert(5, "out records")
    for col in cols:
        table.add_column(col, justify="left" if col == "source" else "right")
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
        console.print(f"reasoning: {rs['with']} records with, {rs['without']} without "
                      f"({rs['share_with']:.1%} with) — a mixed reasoning / non-reasoning set")
    for w in plan.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", soft_wrap=True)
