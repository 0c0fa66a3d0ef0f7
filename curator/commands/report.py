"""`curate report IN... -o report.html [--json report.json] [--tokenizer PATH]`: what a dataset is
made of, at a glance; several inputs are compared side by side (e.g. before/after curation)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import orjson
import typer
from curator.termout import console as _console
from rich.markup import escape
from rich.table import Table

from curator.commands import _options as o
from curator.runner import usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        inputs: list[Path] = typer.Argument(..., help="One file, or several to compare side by side."),
        out: Path = typer.Option(..., "-o", "--out", help="HTML file to write (self-contained, opens offline)."),
        json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the numbers as JSON here."),
        tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="Local tokenizer path: adds token "
                                                "lengths per role and for reasoning."),
        title: Optional[str] = typer.Option(None, "--title", help="Page title (default: the input names)."),
        semantic: bool = typer.Option(True, "--semantic/--no-semantic", help="Add the semantic diversity section "
                                      "(embeddings: Vendi score, clusters, 2-D map; selected vs left out after select)."),
        from_: Optional[str] = o.FROM,
        encoding: Optional[str] = o.ENCODING,
        practice: bool = typer.Option(True, "--practice/--no-practice", help="Practice checks at the top (the "
                                      "field's rules of thumb, with the numbers; docs/practice.md)."),
        practice_config: Optional[Path] = typer.Option(None, "--practice-config", help="YAML overriding the "
                                                       "practice thresholds (task, general_sources, schema, rules)."),
        task: Optional[str] = typer.Option(None, "--task", help="Task type for the data-size rule: copywriting, "
                                           "reference_qa, classification, extraction, general (default: detected)."),
        badcases: Optional[Path] = typer.Option(None, "--badcases", help="Badcase file: how many badcases have a "
                                                "record near them, and which have none."),
    ) -> None:
        """Write an HTML report (charts, no CDN) and print a short summary: lengths, roles, languages,
        diversity, duplicates, reasoning, rejects, scores and generation info."""
        from curator.atomic import atomic_open
        from curator.report import describe
        from curator.report.html import render
        from curator.tokencount import load_counter

        with usage_guard():
            o.check_inputs(inputs)
            from curator.outpaths import check_outputs

            check_outputs([("-o", out), ("--json", json_out)], inputs)
            count = load_counter(tokenizer) if tokenizer else None
            pcfg = practice_settings(practice, practice_config, task, badcases)
            reports = [describe(p, from_, encoding=encoding, count_tokens=count, practice=pcfg, semantic=semantic)
                       for p in inputs]
        from curator.i18n import tr

        page_title = title or (tr("Dataset report: ") + tr(" vs ").join(p.name for p in inputs))
        with atomic_open(out, "wb") as fh:
            fh.write(render(reports, page_title).encode("utf-8"))
        if json_out:
            data = reports[0] if len(reports) == 1 else {"inputs": reports}
            with atomic_open(json_out, "wb") as fh:
                fh.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
        print_summary(reports, out, json_out)


def practice_settings(on: bool, config: Optional[Path], task: Optional[str], badcases: Optional[Path]):
    """The practice-check config from the report's options (None when turned off)."""
    if not on:
        return None
    from curator.practice import load_practice_config

    cfg = load_practice_config(config).with_task(task)
    if badcases:
        cfg.badcases = str(badcases)
    return cfg


def print_summary(reports: list[dict], out: Path, json_out: Optional[Path]) -> None:
    from curator.i18n import tr

    console = _console(stderr=True)
    table = Table(title=tr("report"))
    table.add_column("")
    for r in reports:
        table.add_column(escape(Path(r["input"]).name), justify="right")

    def row(label: str, fn) -> None:
        table.add_row(tr(label), *[fn(r) for r in reports])

    row("records", lambda r: str(r["records"]))
    row("invalid rows", lambda r: str(r["invalid_rows"]))
    row("multi-turn", lambda r: f"{r['multi_turn_share']:.1%}")
    row("tool-calling", lambda r: f"{r['tool_calling_share']:.1%}")
    row("with reasoning", lambda r: f"{r['reasoning']['share']:.1%}")
    row("languages", lambda r: ", ".join(f"{escape(str(k))} {v / max(r.get('sample', r)['records'], 1):.0%}"
                                         for k, v in list(r["languages"].items())[:3]))
    row("assistant chars p50", lambda r: f"{r['chars_per_role'].get('assistant', {}).get('p50', 0):g}")
    row("exact duplicates", lambda r: f"{r['duplicates']['exact_record_rate']:.1%}")
    row("distinct-2", lambda r: f"{r['diversity']['distinct_2']:.3f}")
    if any(r.get("semantic", {}).get("vendi") for r in reports):
        row("Vendi score", lambda r: str(r.get("semantic", {}).get("vendi", {}).get("chosen", "–")))
    row("top first words", lambda r: ", ".join(escape(str(k)) for k, _ in r["diversity"]["first_words"][:3]))
    from curator.practice.render import lines

    for r in reports:  # the practice checks first, as at the top of the HTML page
        if r.get("practice"):
            for line in lines(r["practice"]["checks"], title=f"Practice checks, {Path(r['input']).name}"):
                console.print(escape(line), soft_wrap=True)
    console.print(table)
    for r in reports:  # figures from a sample are labelled (curator.report.sampling)
        if r.get("sample"):
            console.print(escape(f"{Path(r['input']).name}: " + tr("language mix, near duplicates, conflicts and "
                                 "diversity {note}", note=tr(r["sample"]["note"]))), soft_wrap=True)
    console.print(tr("wrote {out}", out=escape(str(out)) + (f", {escape(str(json_out))}" if json_out else "")))
