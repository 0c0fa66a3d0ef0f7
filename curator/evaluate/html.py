"""`curate eval --html`: the evaluation as one self-contained page, in the style of
`curate report` (its CSS and inline-SVG charts are reused from `curator.report`)."""

from __future__ import annotations

from html import escape
from typing import Any

from curator.report import svg
from curator.report.html import _CSS  # one stylesheet for every page the tool writes

_EXTRA_CSS = ".good{color:#2e7d32}.bad{color:#c62828} td.c0{background:#fff} table.cm td{min-width:34px}"


def _num(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else escape(str(v))


def _ci(m: dict[str, Any]) -> str:
    return f"[{m['ci'][0]:.4f}, {m['ci'][1]:.4f}]" if "ci" in m else "–"


def _table(head: list[str], rows: list[list[str]], cls: str = "k") -> str:
    return (f'<table class="{cls}"><tr>' + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def _confusion(labels: list[str], conf: list[list[int]]) -> str:
    top = max((max(r) for r in conf), default=1) or 1
    head = "<tr><th>reference \\ answer</th>" + "".join(f"<th>{escape(x)}</th>" for x in labels) + "</tr>"
    body = []
    for lab, row in zip(labels, conf):
        cells = []
        for j, c in enumerate(row):
            alpha = c / top
            color = "84,162,75" if labels[j] == lab else "228,87,86"
            cells.append(f'<td style="background:rgba({color},{alpha:.2f})">{c}</td>')
        body.append(f"<tr><td>{escape(lab)}</td>{''.join(cells)}</tr>")
    return f'<table class="k cm">{head}{"".join(body)}</table>'


def render(result: dict[str, Any], title: str = "Evaluation") -> str:
    parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>{escape(title)}</title><style>{_CSS}{_EXTRA_CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f'<div class="sub">{escape(", ".join(result.get("inputs", [])))} · {result["records"]} records evaluated'
             f' · {result.get("rejected", 0)} rows not evaluated · sft-curator {escape(str(result.get("version", "")))}</div>']
    rows = []
    for task, t in result["tasks"].items():
        m = t["metrics"][t["primary"]]
        rows.append([escape(task), str(t["n"]), escape(t["primary"]), _num(m["value"]), _ci(m), str(t["wrong"])])
    parts.append("<h2>Overview</h2>" + _table(["task", "records", "main metric", "value", "95% interval", "wrong"], rows))
    for task, t in result["tasks"].items():
        parts.append(f"<h2>{escape(task)}</h2>")
        parts.append(_table(["metric", "value", "interval"],
                            [[escape(k), _num(m["value"]), _ci(m)] for k, m in t["metrics"].items()]))
        if task == "classification":
            per = t["per_label"]
            parts.append("<h3>per label</h3>" + _table(
                ["label", "precision", "recall", "F1", "support"],
                [[escape(k), _num(v["precision"]), _num(v["recall"]), _num(v["f1"]), str(v["support"])]
                 for k, v in per.items()]))
            parts.append(svg.hbars([(k, round(v["f1"], 3)) for k, v in list(per.items())[:30]], title="F1 per label"))
            if t.get("confusion"):
                parts.append("<h3>confusion matrix</h3>" + _confusion(t["labels"], t["confusion"]))
            if t.get("labels_only_in_answers"):
                parts.append('<div class="note warn">labels only the model used: '
                             + escape(", ".join(t["labels_only_in_answers"][:20])) + "</div>")
        elif task == "extraction":
            parts.append(f'<div class="note">answers that were not valid JSON: {t["invalid_json"]}</div>')
            parts.append("<h3>per field</h3>" + _table(
                ["field", "precision", "recall", "F1", "support"],
                [[escape(k), _num(v["precision"]), _num(v["recall"]), _num(v["f1"]), str(v["support"])]
                 for k, v in list(t["per_field"].items())[:50]]))
        elif task == "math":
            parts.append(f'<div class="note">answers with no final answer found: {t["no_final_answer"]}</div>')
        elif task == "generation":
            parts.append(f'<div class="note">tokens: CJK characters and words; answers below ROUGE-L '
                         f'{t["min_rouge_for_ok"]} count as wrong (badcases).</div>')
        for name, key in (("by source", "by_source"), ("by tag", "by_tag")):
            groups = result.get(key, {}).get(task)
            if groups:
                metric = t["primary"]
                parts.append(f"<h3>{name}</h3>" + svg.hbars([(g, round(v[metric], 3)) for g, v in list(groups.items())[:20]],
                                                            title=f"{metric} {name}", color=svg.PALETTE[1]))
                parts.append(_table([name.split()[1], "records", metric],
                                    [[escape(g), str(v["n"]), _num(v[metric])] for g, v in groups.items()]))
    cmp = result.get("compare")
    if cmp:
        parts.append(f"<h2>Compared with {escape(str(cmp.get('other', '')))}</h2>")
        rows = []
        for task, ms in cmp["tasks"].items():
            for m, r in ms.items():
                v = r.get("verdict", "")
                cls = "good" if v == "better" else "bad" if v == "worse" else ""
                ci = f"[{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]" if "ci" in r else "–"
                rows.append([escape(task), escape(m), _num(r["other"]), _num(r["this"]), f"{r['delta']:+.4f}", ci,
                             f'<span class="{cls}">{escape(v)}</span>'])
        parts.append(_table(["task", "metric", "before", "after", "delta", "interval", "verdict"], rows))
    if result.get("badcases"):
        b = result["badcases"]
        parts.append(f'<div class="note">{b["count"]} wrong cases written to {escape(b["path"])} '
                     "(open with: curate review FILE)</div>")
    parts.append("</body></html>\n")
    return "".join(parts)
