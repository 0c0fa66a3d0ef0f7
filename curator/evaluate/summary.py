"""The terminal summary of `curate eval`: one table per task, deltas when comparing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def print_summary(result: dict[str, Any], run: Any, out: Path, html: Path | None) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for label, fmt in run.read_stats.formats.items():
        console.print(f"[dim]{escape(label)}: {fmt}[/]")
    table = Table(title=f"eval: {result['records']} records, {result['rejected']} rows not evaluated")
    for col in ("task", "n", "metric", "value", "interval"):
        table.add_column(col, justify="left" if col in ("task", "metric") else "right")
    for task, t in result["tasks"].items():
        for i, (m, v) in enumerate(t["metrics"].items()):
            ci = f"[{v['ci'][0]:.3f}, {v['ci'][1]:.3f}]" if "ci" in v else ""
            table.add_row(task if i == 0 else "", str(t["n"]) if i == 0 else "", m, f"{v['value']:.4f}", ci)
    console.print(table)
    for reason, n in run.rejects.counts.most_common():
        console.print(f"  [yellow]{reason}[/]: {n}  e.g. {escape(run.rejects.examples[reason][0]['message'])}")
    cmp = result.get("compare")
    if cmp:
        ct = Table(title=f"compared with {escape(cmp['other'])}")
        for col in ("task", "metric", "before", "after", "delta", "interval", "verdict"):
            ct.add_column(col)
        for task, ms in cmp["tasks"].items():
            for m, r in ms.items():
                ci = f"[{r['ci'][0]:+.3f}, {r['ci'][1]:+.3f}]" if "ci" in r else ""
                ct.add_row(task, m, f"{r['other']:.4f}", f"{r['this']:.4f}", f"{r['delta']:+.4f}", ci, r.get("verdict", ""))
        console.print(ct)
    wrote = [str(out)] + ([str(html)] if html else [])
    if result.get("badcases"):
        wrote.append(f"{result['badcases']['count']} badcases to {result['badcases']['path']} "
                     f"(review: curate review {result['badcases']['path']})")
    console.print("wrote " + escape(", ".join(wrote)))
