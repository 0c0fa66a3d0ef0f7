"""`curate stats IN...`: records, turns, roles, characters per role, formats detected."""

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
from curator.dataset_counts import DatasetCounts


def register(app: typer.Typer) -> None:
    @app.command()
    def stats(
        inputs: list[Path] = typer.Argument(..., help="Files to describe."),
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
        tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="Local tokenizer folder (needs the [train] "
                                                "extra): adds tokens per role (total, mean, max)."),
    ) -> None:
        """Count records, turns and roles, and characters per role (invalid rows are counted, not described)."""
        with usage_guard():
            o.check_inputs(inputs)
            ropts = o.read_options(mapping)
            count = None
            if tokenizer:
                from curator.tokencount import load_counter

                count = load_counter(tokenizer)
            run = CommandRun("stats", out=None, params={}, inputs=inputs, quiet=True)
        st = DatasetCounts()
        tokens: dict[str, list[int]] = {}  # role -> [messages, total, max]
        with run:
            for path in inputs:
                # Prompts without answers are still data worth describing.
                for conv in run.read(path, from_, opts=ropts, encoding=encoding, allow=("no_assistant", "no_final_answer")):
                    st.add(conv)
                    if count is not None:
                        for m in conv.messages:
                            n = count(m.content)
                            t = tokens.setdefault(m.role, [0, 0, 0])
                            t[0] += 1
                            t[1] += n
                            t[2] = max(t[2], n)
        if run.exit_code:
            raise typer.Exit(run.exit_code)
        d = st.to_dict()
        d["formats"] = run.read_stats.formats
        d["invalid_rows"] = len(run.rejects)
        d["invalid_by_reason"] = dict(run.rejects.counts)
        if count is not None:
            d["tokenizer"] = tokenizer
            d["tokens_per_role"] = {r: {"total": t[1], "mean": round(t[1] / t[0], 1) if t[0] else 0, "max": t[2]}
                                    for r, t in tokens.items()}
        if as_json:
            sys.stdout.write(orjson.dumps(d, option=orjson.OPT_INDENT_2).decode() + "\n")
            return
        from curator.i18n import tr

        console = _console()
        for label, fmt in d["formats"].items():
            console.print(f"{escape(label)}: {tr('format')} [bold]{fmt}[/]")
        console.print(tr("{records} records ({invalid} invalid rows skipped), {turns} turns, {per} per record; "
                         "multi-turn {multi}, tools {tools}, reasoning {reasoning}, system prompt {system}",
                         records=d["records"], invalid=d["invalid_rows"], turns=d["turns"], per=d["turns_per_record"],
                         multi=d["multi_turn"], tools=d["with_tools"], reasoning=d["with_reasoning"],
                         system=d["with_system"]))
        tok = d.get("tokens_per_role", {})
        heads = ["role", "messages", "chars total", "chars mean", "chars max"]
        heads += ["tokens total", "tokens mean", "tokens max"] if count is not None else []
        table = Table(*(tr(h) for h in heads))
        for role, c in d["chars_per_role"].items():
            t = tok.get(role, {})
            table.add_row(role, str(d["roles"][role]), str(c["total"]), str(c["mean"]), str(c["max"]),
                          *((str(t.get("total", 0)), str(t.get("mean", 0)), str(t.get("max", 0))) if count is not None
                            else ()))
        console.print(table)
