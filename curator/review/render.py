"""Rows and records as Rich renderables, every piece of data wrapped by `safe_text`.

Kept apart from the app so the escaping can be tested on the renderables themselves.
"""

from __future__ import annotations

import json
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from curator.i18n import reject_sentence, tr
from curator.record import Conversation
from curator.review.items import ReviewItem
from curator.review.safe_text import one_line, safe, visible
from curator.review.store import RecordState

ROLE_STYLE = {"system": "bold magenta", "user": "bold cyan", "assistant": "bold green", "tool": "bold yellow"}
STATUS_MARK = {"pending": ("·", "dim"), "accepted": ("✓", "green"), "rejected": ("✗", "red")}


def fit(s: object, cells: int) -> str:
    """`s` on one line, cut or padded to exactly `cells` terminal cells. Counting cells, not
    characters, keeps the list columns aligned when an id or reason holds Chinese (2 cells each)."""
    text = one_line(s, cells * 2)
    if cell_len(text) > cells:
        text = set_cell_size(text, cells - 1) + "…"
    return set_cell_size(text, cells)


def list_row(item: ReviewItem, st: RecordState, reason: str | None, width: int) -> Text:
    """One line of the record list: status, id, reason, score, first words."""
    mark, style = STATUS_MARK[st.status]
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f"{mark} ", style)
    t.append(f"{st.status[:3]:<4}", style)
    t.append(fit(item.id, 14) + " ", "bold")
    t.append(fit(reason or "", 16) + " ", "yellow")
    t.append(f"{item.score:>6.2f} " if item.score is not None else "     - ", "cyan")
    if st.edited:
        t.append("✎ ", "magenta")
    if st.tags:
        t.append(one_line("#" + " #".join(st.tags), 30) + " ", "blue")
    t.append(one_line(item.first_words(), max(10, width)))
    t.truncate(width, overflow="ellipsis")
    return t


def _json(obj: Any) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False, indent=2, default=str)
    except (TypeError, ValueError):
        return repr(obj)


def conversation(conv: Conversation, selected: int | None, show_reasoning: bool) -> RenderableType:
    parts: list[RenderableType] = []
    if conv.tools:
        parts.append(Text.assemble(("tools ", "bold yellow"), safe(_json(conv.tools), "dim")))
    for i, m in enumerate(conv.messages):
        head = Text()
        head.append("▶ " if i == selected else "  ", "reverse" if i == selected else "")
        head.append(f"[{i}] ", "dim")
        head.append(m.role, ROLE_STYLE.get(m.role, "bold"))
        if m.name:
            head.append(f" ({visible(m.name)})", "dim")
        if m.tool_call_id:
            head.append(f" ← {visible(m.tool_call_id)}", "dim")
        if m.weight is not None:
            head.append(f"  weight={m.weight}", "dim")
        parts.append(head)
        if m.reasoning:
            if show_reasoning:
                parts.append(Text.assemble(("  reasoning: ", "dim italic"), safe(m.reasoning, "dim italic")))
            else:
                parts.append(Text(f"  ▸ reasoning ({len(m.reasoning)} chars, press z to show)", "dim italic"))
        if m.content:
            body = safe(m.content)
            body.pad_left(4)
            parts.append(body)
        if m.tool_calls:
            parts.append(Text.assemble(("    tool_calls ", "yellow"), safe(_json(m.tool_calls), "yellow")))
    return Group(*parts)


def metadata(item: ReviewItem, st: RecordState, path_name: str) -> RenderableType:
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold dim", no_wrap=True)
    t.add_column()
    t.add_row("id", safe(item.id))
    t.add_row(tr("kind"), Text(item.kind))
    t.add_row(tr("line"), Text(f"{path_name}:{item.line}"))
    status = Text(st.status, STATUS_MARK[st.status][1])
    if st.reason:
        status.append(f"  reason: {visible(st.reason)}", "red")
    t.add_row(tr("review"), status)
    if st.tags:
        t.add_row(tr("tags"), safe(", ".join(st.tags), "blue"))
    if st.edits:
        t.add_row(tr("edited"), Text(", ".join(f"member {m + 1} " + ("whole row (JSON)" if i < 0 else f"message {i}")
                                               for m, i in sorted(st.edits)), "magenta"))
    message = reject_sentence(item.reason, item.message) if item.reason and item.message else item.message
    for label, val in (("queue reason", item.reason), ("message", message), ("stage", item.stage),
                       ("source", item.source), ("duplicate_of", item.duplicate_of)):
        if val:
            t.add_row(tr(label), safe(val, "yellow" if label == "queue reason" else ""))
    if item.score is not None:
        t.add_row(tr("score"), Text(f"{item.score:.4g}", "cyan"))
    for key in ("scores", "judge", "lineage", "tags", "generation", "model"):
        if key in item.meta and item.meta[key] not in (None, [], {}):
            t.add_row(key, safe(one_line(_json(item.meta[key]).replace("\n", " "), 200)))
    return t


def detail(item: ReviewItem, st: RecordState, convs: list[Conversation | None], selected: tuple[int, int],
           show_reasoning: bool, path_name: str) -> RenderableType:
    """The whole detail pane: metadata, then each member (one for a record; all for groups/candidates)."""
    parts: list[RenderableType] = [metadata(item, st, path_name)]
    panels: list[RenderableType] = []
    for mi, (mem, conv) in enumerate(zip(item.members, convs)):
        title = mem.label + (f"  score {mem.score:.4g}" if mem.score is not None else "")
        if conv is not None:
            body = conversation(conv, selected[1] if selected[0] == mi else None, show_reasoning)
            title += f"  id {one_line(conv.id, 30)}"
        else:
            body = safe(mem.raw if isinstance(mem.raw, str) else _json(mem.raw), "dim")
            title += "  (shown raw: not a record in a known format)"
        panels.append(Panel(body, title=safe(title), title_align="left",
                            border_style="bright_white" if mi == selected[0] else "grey37"))
    # a model's answer beside its reference (or the answer it replaced): items.py adds it as a member
    beside = item.kind == "record" and len(panels) == 2
    if (item.kind in ("group", "bestofk") or beside) and 2 <= len(panels) <= 3:
        # Clusters, conflict groups and small candidate sets side by side: differences jump out.
        grid = Table.grid(expand=True, padding=(0, 1))
        for _ in panels:
            grid.add_column(ratio=1)
        grid.add_row(*panels)
        parts.append(grid)
    else:
        parts.extend(panels)
    return Group(*parts)
