"""Prompt lists: ``{"turns": ["first question", "follow-up", ...]}`` (MT-Bench questions).

Only user turns, no answers: this is what `curate distill --mode multi-turn` answers turn by
turn. Validation flags it (no assistant turn; consecutive user turns), so commands that need
answers reject it with that reason, and distill allows it.
"""

from __future__ import annotations

from typing import Any

from curator.errors import RowError
from curator.formats.common import ReadOptions, WriteOptions, extras, rename_columns, text_of
from curator.record import Conversation, Message

NAME = "turns"
_KNOWN = frozenset({"turns", "id", "question_id"})


def matches(row: dict[str, Any]) -> bool:
    return isinstance(row.get("turns"), list)


def parse(row: dict[str, Any], opts: ReadOptions) -> Conversation:
    if opts.mapping:
        row = rename_columns(row, opts.column_map)
    turns = row.get("turns")
    if not isinstance(turns, list) or not turns:
        raise RowError("missing_field", "no 'turns' list", field="turns")
    messages = [Message("user", text_of(t, f"turns[{i}]")) for i, t in enumerate(turns)]
    meta: dict[str, Any] = {}
    ex = extras(row, _KNOWN)
    if ex:
        meta["extra"] = ex
    rid = row.get("id", row.get("question_id"))
    return Conversation(messages=messages, id=str(rid) if rid not in (None, "") else "", meta=meta)


def render(conv: Conversation, opts: WriteOptions) -> dict[str, Any]:
    if any(m.role != "user" for m in conv.messages):
        raise RowError("unrepresentable", "the turns format holds user prompts only (this record has answers)",
                       fix="convert to messages or sharegpt")
    d: dict[str, Any] = {}
    if not conv.meta.get("id_hashed"):
        d["id"] = conv.id
    d["turns"] = [m.content for m in conv.messages]
    for key, value in (conv.meta.get("extra") or {}).items():
        d.setdefault(key, value)
    return d
