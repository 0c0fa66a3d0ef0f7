"""Row-level checks run inside every read and by `curate validate`.

`check(conv)` returns every problem as a `RowError` (code, message, field, fix); the reader
rejects a record on its first problem that is not allowed. Codes:

==================  =========================================================================
unknown_role        role/tag not known (raised while parsing, with an edit-distance hint)
empty_content       a message with empty or whitespace-only text
non_text_content    an object where a string belongs (raised while parsing)
turn_order          two user turns in a row, assistant first, a tool call with no result ...
tool_without_call   a tool result with no assistant tool call before it
no_assistant        nothing to train on (allowed by `curate distill`, which fills it)
system_not_first    a system message after the first turn
placeholder         an unfilled template placeholder such as ``{{name}}``
bad_characters      control characters or U+FFFD (a decoding accident upstream)
==================  =========================================================================

One combined regex screens every text, so clean records cost one scan each.
"""

from __future__ import annotations

import re
from typing import Iterable

from curator.errors import RowError
from curator.record import Conversation

CODES = ("invalid_json", "encoding", "bad_structure", "missing_field", "unknown_format", "unknown_role",
         "empty_content", "non_text_content", "turn_order", "tool_without_call", "no_assistant",
         "system_not_first", "placeholder", "bad_characters", "unterminated_think", "unrepresentable")

_SUSPECT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]|\{\{")
_PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_][\w.\-]*\s*\}\}")
_BAD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_FENCE = re.compile(r"```.*?(```|$)", re.S)


def _describe_char(ch: str) -> str:
    if ch == "\ufffd":
        return "U+FFFD (replacement character: text was decoded with the wrong encoding)"
    if 0x80 <= ord(ch) <= 0x9F:
        return f"control character U+{ord(ch):04X} (mojibake: UTF-8 text decoded as Latin-1, e.g. 'â\\x80\\x94' for '—')"
    return f"control character U+{ord(ch):04X}"


def _text_problems(text: str, where: str) -> list[RowError]:
    if not _SUSPECT.search(text):
        return []
    out = []
    m = _PLACEHOLDER.search(_FENCE.sub("", text))
    if m:
        out.append(RowError("placeholder", f"{where} has an unfilled placeholder {m.group(0)}", field=where,
                            fix="fill the template before training, or drop the row"))
    b = _BAD_CHAR.search(text)
    if b:
        out.append(RowError("bad_characters", f"{where} contains {_describe_char(b.group(0))} at offset {b.start()}",
                            field=where, fix="re-decode the source with the right --encoding or strip the character"))
    return out


def check(conv: Conversation) -> list[RowError]:
    """Every problem with one record, most serious first."""
    problems: list[RowError] = []
    msgs = conv.messages
    prev = None
    has_assistant = False
    open_calls = 0
    for i, m in enumerate(msgs):
        where = f"messages[{i}]"
        role = m.role
        if role == "system":
            if i > 0:
                problems.append(RowError("system_not_first", f"{where} is a system message after the first turn",
                                         field=where, fix="move the system prompt to the start or merge it"))
        elif role == "user":
            if prev == "user":
                problems.append(RowError("turn_order", f"{where}: two user turns in a row", field=where,
                                         fix="merge the two user turns or add the missing answer"))
            elif open_calls:
                problems.append(RowError("turn_order", f"{where}: a tool call before it has no tool result",
                                         field=where, fix="add the tool result (observation) after the call"))
        elif role == "assistant":
            has_assistant = True
            if prev in (None, "system"):
                problems.append(RowError("turn_order", f"{where}: the conversation starts with an assistant turn",
                                         field=where, fix="add the user turn it answers, or drop the row"))
            elif prev == "assistant" and not open_calls:
                problems.append(RowError("turn_order", f"{where}: two assistant turns in a row", field=where,
                                         fix="merge them, or add the user turn between them"))
            elif open_calls:
                problems.append(RowError("turn_order", f"{where}: a tool call before it has no tool result",
                                         field=where, fix="add the tool result (observation) after the call"))
            open_calls = len(m.tool_calls) if m.tool_calls else 0
        elif role == "tool":
            if open_calls <= 0 and prev != "tool":
                problems.append(RowError("tool_without_call", f"{where} is a tool result with no tool call before it",
                                         field=where, fix="add the assistant tool call (function_call) it answers"))
            open_calls = max(open_calls - 1, 0)
        text = m.content
        if not text.strip() and not m.tool_calls and not (role == "assistant" and m.reasoning):
            problems.append(RowError("empty_content", f"{where} ({role}) is empty", field=f"{where}.content",
                                     fix="fill it in or drop the row"))
        problems.extend(_text_problems(text, f"{where}.content"))
        if m.reasoning:
            problems.extend(_text_problems(m.reasoning, f"{where}.reasoning_content"))
        prev = role
    if not has_assistant:
        problems.append(RowError("no_assistant", "no assistant turn: nothing to train on",
                                 fix="add the answer, or run `curate distill` to generate it"))
    return problems


def first_problem(conv: Conversation, allow: Iterable[str] = ()) -> RowError | None:
    """The first problem whose code is not in `allow`, or None when the record is fine."""
    allow = frozenset(allow)
    for p in check(conv):
        if p.code not in allow:
            return p
    return None
