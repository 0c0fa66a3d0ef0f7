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

Clean records are the common case and cost one character-class scan per text, or none when the
reader has already screened the raw line (`line_is_clean`).
"""

from __future__ import annotations

import re
from typing import Iterable

from curator import lexicon
from curator.errors import RowError
from curator.record import Conversation

CODES = ("invalid_json", "encoding", "bad_structure", "missing_field", "unknown_role",
         "empty_content", "non_text_content", "turn_order", "tool_without_call", "no_assistant",
         "system_not_first", "placeholder", "bad_characters", "unterminated_think", "unrepresentable")

# The row check knows only the unmistakable slot, {{name}}; the rules (code, LaTeX, a template
# the user asked for) are the shared lexicon's, so validate and the placeholder filter agree.
_SLOT = (lexicon.PLACEHOLDER_PATTERNS[0],)
_BAD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
# A JSON escape that can spell a control character. A regex with a literal prefix is several
# times faster here than `b"\\u" in line`, whose search trips over every "u" in the text.
_ESCAPE = re.compile(rb"\\[ubf]")


def _describe_char(ch: str) -> str:
    if ch == "\ufffd":
        return "U+FFFD (replacement character: text was decoded with the wrong encoding)"
    if 0x80 <= ord(ch) <= 0x9F:
        return f"control character U+{ord(ch):04X} (mojibake: UTF-8 text decoded as Latin-1, e.g. 'â\\x80\\x94' for '—')"
    return f"control character U+{ord(ch):04X}"


def line_is_clean(line: bytes) -> bool:
    """True when no text of a raw JSON line can hold a bad character, so `check` may skip its
    per-text character scan (`scan_chars=False`). JSON must escape control characters (as
    \\uXXXX, \\b or \\f), so a line without those escapes, raw DEL, raw U+0080..U+009F (0xC2 lead
    byte) and raw U+FFFD has clean texts. Substring tests run at memchr speed; a false alarm
    only means the exact per-text scan runs."""
    if b"\x7f" in line or _ESCAPE.search(line) is not None:
        return False
    return line.isascii() or (b"\xc2" not in line and b"\xef\xbf\xbd" not in line)


def _text_problems(text: str, where: str, prompt: str = "", is_prompt: bool = False, answer: str = "") -> list[RowError]:
    # Two cheap screens instead of one regex with an alternation: a pure character class lets
    # `re` use its fast scan, and `in` is memchr speed. Most texts pass both.
    bad = _BAD_CHAR.search(text)
    if bad is None and "{{" not in text:
        return []
    out = []
    m = lexicon.find_placeholder(text, prompt, patterns=_SLOT, is_prompt=is_prompt, answer=answer) if "{{" in text else None
    if m:
        out.append(RowError("placeholder", f"{where} has an unfilled placeholder {m}", field=where,
                            fix="fill the template before training, or drop the row"))
    if bad is not None:
        out.append(RowError("bad_characters", f"{where} contains {_describe_char(bad.group(0))} at offset {bad.start()}",
                            field=where, fix="re-decode the source with the right --encoding or strip the character"))
    return out


def check(conv: Conversation, *, scan_chars: bool = True) -> list[RowError]:
    """Every problem with one record, most serious first.

    `scan_chars=False` skips the bad-character scan, for callers that already know the texts
    hold none (`line_is_clean` on the raw line); every other check always runs.
    Location strings are built only when a problem is found: this runs once per record.
    """
    problems: list[RowError] = []
    prev = None
    has_assistant = False
    open_calls = 0
    for i, m in enumerate(conv.messages):
        role = m.role
        if role == "assistant":
            has_assistant = True
            if prev == "user" and not open_calls:
                pass  # the common case, first so it costs one comparison
            elif prev in (None, "system"):
                problems.append(RowError("turn_order", f"messages[{i}]: the conversation starts with an assistant turn",
                                         field=f"messages[{i}]", fix="add the user turn it answers, or drop the row"))
            elif prev == "assistant" and not open_calls:
                problems.append(RowError("turn_order", f"messages[{i}]: two assistant turns in a row",
                                         field=f"messages[{i}]", fix="merge them, or add the user turn between them"))
            elif open_calls:
                problems.append(RowError("turn_order", f"messages[{i}]: a tool call before it has no tool result",
                                         field=f"messages[{i}]", fix="add the tool result (observation) after the call"))
            open_calls = len(m.tool_calls) if m.tool_calls else 0
        elif role == "user":
            if prev == "user":
                problems.append(RowError("turn_order", f"messages[{i}]: two user turns in a row", field=f"messages[{i}]",
                                         fix="merge the two user turns or add the missing answer"))
            elif open_calls:
                problems.append(RowError("turn_order", f"messages[{i}]: a tool call before it has no tool result",
                                         field=f"messages[{i}]", fix="add the tool result (observation) after the call"))
        elif role == "system":
            if i > 0:
                problems.append(RowError("system_not_first", f"messages[{i}] is a system message after the first turn",
                                         field=f"messages[{i}]", fix="move the system prompt to the start or merge it"))
        elif role == "tool":
            if open_calls <= 0 and prev != "tool":
                problems.append(RowError("tool_without_call",
                                         f"messages[{i}] is a tool result with no tool call before it",
                                         field=f"messages[{i}]", fix="add the assistant tool call (function_call) it answers"))
            open_calls = max(open_calls - 1, 0)
        text = m.content
        if not text.strip() and not m.tool_calls and not (role == "assistant" and m.reasoning):
            problems.append(RowError("empty_content", f"messages[{i}] ({role}) is empty", field=f"messages[{i}].content",
                                     fix="fill it in or drop the row"))
        if "{{" in text or (scan_chars and _BAD_CHAR.search(text) is not None):
            slot_check = "{{" in text
            problems.extend(_text_problems(text, f"messages[{i}].content", conv.prompt_text() if slot_check else "",
                                           role in ("system", "user"), conv.answer_text() if slot_check else ""))
        if m.reasoning and ("{{" in m.reasoning or (scan_chars and _BAD_CHAR.search(m.reasoning) is not None)):
            problems.extend(_text_problems(m.reasoning, f"messages[{i}].reasoning_content",
                                           conv.prompt_text() if "{{" in m.reasoning else ""))
        prev = role
    if not has_assistant:
        problems.append(RowError("no_assistant", "no assistant turn: nothing to train on",
                                 fix="add the answer, or run `curate distill` to generate it"))
    elif prev in ("user", "tool"):
        # a dangling last turn: trained on, it teaches nothing (no answer), and chat templates
        # render it as an open prompt; LLaMA-Factory drops such rows too
        n = len(conv.messages) - 1
        problems.append(RowError("no_final_answer", f"messages[{n}]: the conversation ends on a {prev} turn with no "
                                 "answer after it", field=f"messages[{n}]",
                                 fix="add the answer, drop the last turn, or run `curate distill` to answer it"))
    return problems


def first_problem(conv: Conversation, allow: Iterable[str] = (), *, scan_chars: bool = True) -> RowError | None:
    """The first problem whose code is not in `allow`, or None when the record is fine."""
    if not isinstance(allow, frozenset):
        allow = frozenset(allow)
    for p in check(conv, scan_chars=scan_chars):
        if p.code not in allow:
            return p
    return None
