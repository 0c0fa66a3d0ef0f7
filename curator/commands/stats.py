"""`curate stats IN...`: records, turns, roles, characters per role, formats detected."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard
from curator.stats import Stats


def register(app: typer.Typer) -> None:
    @app.command()
    def stats(
        inputs: list[Path] = typer.Argument(..., help="Files to describe."),
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
    ) -> None:
        """Count records, turns and roles, and characters per role (invalid rows are counted, not described)."""
        with usage_guard():
            o.check_inputs(inputs)
            ropts = o.read_options(mapping)
            run = CommandRun("stats", out=None, params={}, inputs=inputs, quiet=True)
        st = Stats()
        with run:
            for path in inputs:
                # Prompts without answers are still data worth describing.
                for conv in run.read(path, from_, opts=ropts, encoding=encoding, allow=("no_assistant", "no_final_answer")):
                    st.add(conv)
        if run.exit_code:
            raise typer.Exit(run.exit_code)
        d = st.to_dict()
        d["formats"] = run.read_stats.formats
        d["invalid_rows"] = len(run.rejects)
        d["invalid_by_reason"] = dict(run.rejects.counts)
        if as_json:
            sys.stdout.write(orjson.dumps(d, option=orjson.OPT_INDENT_2).decode() + "\n")
            return
        console = Console(highlight=False)
        for label, fmt in d["formats"].items():
            console.print(f"{escape(label)}: format [bold]{fmt}[/]")
        console.print(f"{d['records']} records ({d['invalid_rows']} invalid rows skipped), {d['turns']} turns, "
                      f"{d['turns_per_record']} per record; multi-turn {d['multi_turn']}, tools {d['with_tools']}, "
                      f"reasoning {d['with_reasoning']}, system prompt {d['with_system']}")
        table = Table("role", "messages", "chars total", "chars mean", "chars max")
        for role, c in d["chars_per_role"].items():
            table.add_row(role, str(d["roles"][role]), str(c["total"]), str(c["mean"]), str(c["max"]))
        console.print(table)
