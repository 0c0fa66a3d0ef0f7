"""Practice checks as text lines (terminal) and as an HTML section (the top of `curate report`).

Both take check dicts (`Check.to_dict()`), the shape written to `--json`, so the report renders
from its own JSON. Warnings come first and say the rule, the source sentence and what to do;
passing checks take one line; checks that do not apply are counted, and listed only in the HTML.
"""

from __future__ import annotations

from html import escape
from typing import Any

_ORDER = {"warn": 0, "info": 1, "ok": 2, "skip": 3}
_LABEL = {"warn": "WARN", "info": "info", "ok": "ok", "skip": "n/a"}
_COLOR = {"warn": "#a15c00", "info": "#205d9e", "ok": "#2e7d32", "skip": "#888"}
_HEAD = {"en": "Practice checks", "zh": "实践检查"}


def _sorted(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(checks, key=lambda c: _ORDER.get(c["status"], 9))


def counts_line(checks: list[dict[str, Any]], lang: str = "en") -> str:
    n = {s: sum(c["status"] == s for c in checks) for s in _ORDER}
    if lang == "zh":
        return f"{n['warn']} 个警告，{n['info']} 个提示，{n['ok']} 个通过，{n['skip']} 个不适用"
    return f"{n['warn']} warning(s), {n['info']} note(s), {n['ok']} ok, {n['skip']} not applicable"


def lines(checks: list[dict[str, Any]], *, title: str = "", lang: str = "en", hide_ok: bool = False) -> list[str]:
    """Plain text lines (no markup) for a terminal or a log. `hide_ok`: only warnings and notes."""
    out = [f"{title or _HEAD[lang]}: {counts_line(checks, lang)}"]
    for c in _sorted(checks):
        if c["status"] == "skip" or (hide_ok and c["status"] == "ok"):
            continue
        out.append(f"  {_LABEL[c['status']]:<4} {c['title']}: {c['measured']}")
        if c["status"] in ("warn", "info"):
            out.append(f"       rule: {c['rule']} — {c['source']}" if lang == "en"
                       else f"       规则：{c['rule']} — {c['source']}")
            out.append(f"       do: {c['advice']}" if lang == "en" else f"       建议：{c['advice']}")
            for d in c.get("details", [])[:5]:
                out.append(f"       · {d}")
    return out


def html_section(practice: list[dict[str, Any] | None], names: list[str], lang: str = "en") -> str:
    """One "Practice checks" section, one column per input; `practice[i]` is `report["practice"]`."""
    if not any(practice):
        return ""
    cells = []
    for name, p in zip(names, practice):
        head = f"<h3>{escape(name)}</h3>" if len(names) > 1 else ""
        if not p:
            cells.append(head + '<p class="empty">no practice checks</p>')
            continue
        checks = _sorted(p["checks"])
        rows = []
        for c in checks:
            color = _COLOR.get(c["status"], "#222")
            src = escape(c["source"]) + ("" if lang == "zh" or not c.get("source_zh") else
                                          f'<br><span lang="zh">{escape(c["source_zh"])}</span>')
            detail = "".join(f"<li>{escape(str(d))}</li>" for d in c.get("details", [])[:20])
            todo = escape(c["advice"]) if c["status"] in ("warn", "info") else ""
            rows.append(f'<tr><td style="color:{color};font-weight:600">{_LABEL[c["status"]]}</td>'
                        f'<td style="text-align:left"><b>{escape(c["title"])}</b><br>{escape(c["measured"])}'
                        + (f'<ul class="note">{detail}</ul>' if detail else "") + "</td>"
                        f'<td style="text-align:left">{escape(c["rule"])}<div class="note">{src}</div></td>'
                        f'<td style="text-align:left">{todo}</td></tr>')
        task = p.get("task")
        sub = (f'<div class="note">{escape(counts_line(p["checks"], lang))}'
               + (f" · task: {escape(task['name'])} ({escape(task['why'])})" if task else "") + "</div>")
        cols = ("", "measured", "rule and source", "what to do") if lang == "en" else ("", "测量值", "规则与出处", "建议")
        cells.append(head + sub + '<table class="k"><tr>' + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
                     + "".join(rows) + "</table>")
    grid = (f'<div class="grid" style="grid-template-columns:repeat({len(cells)},minmax(0,1fr))">'
            + "".join(f'<div class="cell">{c}</div>' for c in cells) + "</div>")
    return f'<h2 id="practice">{_HEAD[lang]}</h2>' + grid
