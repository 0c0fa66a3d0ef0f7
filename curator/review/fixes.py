"""Fixing what is most often wrong with a reject: a record that is not a valid conversation.

Two ways, both re-validated before anything is saved (the same parse and row checks every
command runs, so a fixed row is readable by the next command):

- `suggest_fix(raw)`: the fix the reader's message already suggests, applied in one key —
  "unknown role 'asistant' … did you mean 'assistant'?" renames the role (every such role in
  the row, each checked again).
- `parse_raw_edit(text)`: the whole row edited as JSON, for anything else.

The result is stored as a raw edit (`RAW_EDIT` as the message index) in the decision store, so
undo, export and a restart treat it like any other edit.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from curator.errors import RowError
from curator.record import Conversation

RAW_EDIT = -1  # message index of an edit that replaces the whole member row (JSON text)
_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_strict(row: Any) -> Conversation:
    """Parse and validate one row as every command would; RowError says what is wrong."""
    from curator.formats import detect_row, parse_row
    from curator.validate import first_problem

    if not isinstance(row, dict):
        raise RowError("bad_structure", f"the row is a {type(row).__name__}, not a JSON object")
    fmt = detect_row(row)
    if fmt is None:
        raise RowError("bad_structure", f"no known format (keys {sorted(row)[:8]})",
                       fix='a record needs "messages" (or instruction/output, conversations, prompt/completion)')
    conv = parse_row(row, fmt)
    problem = first_problem(conv, {"no_assistant"})
    if problem is not None:
        raise problem
    return conv


def _set_path(obj: Any, path: str, value: Any) -> bool:
    steps = [(k, int(i) if i else None) for k, i in _STEP.findall(path)]
    cur = obj
    for n, (key, idx) in enumerate(steps):
        last = n == len(steps) - 1
        try:
            if idx is not None:
                if last:
                    cur[idx] = value
                    return True
                cur = cur[idx]
            else:
                if last:
                    if key not in cur:
                        return False
                    cur[key] = value
                    return True
                cur = cur[key]
        except (KeyError, IndexError, TypeError):
            return False
    return False


def _field_for(err: RowError, row: dict[str, Any]) -> str | None:
    """The path of the field to change: the error's own, or the ShareGPT `from` key of a role."""
    if not err.field:
        return None
    if err.field.endswith(".role") and "conversations" in row:
        return err.field[: -len(".role")] + ".from"
    return err.field


def suggest_fix(raw: Any, max_fixes: int = 20) -> tuple[str, dict[str, Any]] | None:
    """(what was changed, the fixed row) when the reader's suggestions make `raw` valid, else None."""
    if not isinstance(raw, dict):
        return None
    row = orjson.loads(orjson.dumps(raw))  # a deep copy: the original row is never touched
    changes: list[str] = []
    for _ in range(max_fixes):
        try:
            parse_strict(row)
        except RowError as e:
            m = _DID_YOU_MEAN.search(e.fix or "") or _DID_YOU_MEAN.search(e.message)
            path = _field_for(e, row)
            if m is None or path is None or not _set_path(row, path, m.group(1)):
                return None
            changes.append(f"{path} -> {m.group(1)!r}")
            continue
        return ("; ".join(changes), row) if changes else None
    return None


def parse_raw_edit(text: str) -> tuple[Conversation | None, str | None]:
    """(the conversation, None) when the edited JSON is a valid row, else (None, what is wrong)."""
    try:
        row = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        return None, f"not valid JSON: {e}"
    try:
        return parse_strict(row), None
    except RowError as e:
        return None, e.sentence()
