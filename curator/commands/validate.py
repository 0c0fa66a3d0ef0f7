"""`curate validate IN...`: every row checked; a table of problems by reason with examples.

Exit code 1 when any row is invalid (the default `--max-error-rate 0`), so it can gate CI.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import orjson
import typer
from curator.termout import console as _console
from rich.markup import escape
from rich.table import Table

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        inputs: list[Path] = typer.Argument(..., help="Files to check."),
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        think_tags: str = o.THINK_TAGS,
        allow: Optional[list[str]] = o.ALLOW,
        out: Optional[Path] = typer.Option(None, "-o", "--out", help="Also write the valid records (canonical) "
                                           "here, with rejects and manifest beside it."),
        examples: int = typer.Option(3, "--examples", help="Examples shown per reason."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout instead of tables."),
        max_error_rate: float = typer.Option(0.0, "--max-error-rate", help="Exit 1 when rejected/in is above this."),
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
        workers: str = o.WORKERS,
    ) -> None:
        """Check rows for invalid JSON, unknown roles, bad turn order, empty turns, placeholders and more."""
        params = dict(inputs=[str(p) for p in inputs], from_=from_, mapping=mapping, encoding=encoding, allow=allow, engine=engine,
                      workers=workers)
        with usage_guard():
            o.check_engine(engine)
            o.check_inputs(inputs)
            n_workers = o.workers(workers)
            ropts = o.read_options(mapping, think_tags)
            run = CommandRun("validate", out=out, params=params, inputs=inputs, max_error_rate=max_error_rate,
                             quiet=True)
        with run:
            from curator.engine import run_stage
            from curator.engine.tasks import Identity

            run_stage(engine, run, inputs, fmt=from_, opts=ropts, encoding=encoding, allow=allow or (),
                      stage=Identity(), address=ray_address, workers=n_workers)
        if run.exit_code == 2 or not run.manifest:
            raise typer.Exit(run.exit_code or 2)
        counts = run.manifest["counts"]
        valid = counts["in"] - counts["rejected"]
        report = {"files": run.read_stats.formats, "rows": counts["in"], "valid": valid,
                  "invalid": counts["rejected"], "by_reason": counts["rejected_by_reason"],
                  "examples": {r: ex[:examples] for r, ex in run.rejects.examples.items()}}
        if as_json:
            sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            _print_report(report)
        raise typer.Exit(run.exit_code)


def _print_report(report: dict) -> None:
    from curator.i18n import reject_sentence, tr

    console = _console()
    for label, fmt in report["files"].items():
        console.print(f"{escape(label)}: {tr('format')} [bold]{fmt}[/]")
    console.print(tr("{rows} rows: {valid} valid, {invalid} invalid", rows=report["rows"], valid=report["valid"],
                     invalid=report["invalid"]))
    if not report["by_reason"]:
        return
    table = Table(tr("reason"), tr("rows"), tr("first examples"), show_lines=True)
    for reason, n in sorted(report["by_reason"].items(), key=lambda kv: -kv[1]):
        table.add_row(reason, str(n), escape("\n".join(reject_sentence(reason, e["message"])
                                                       for e in report["examples"][reason])))
    console.print(table)
