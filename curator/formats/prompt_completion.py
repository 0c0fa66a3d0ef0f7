"""TRL's prompt/completion pairs: strings (``{"prompt": str, "completion": str}``) or
conversational lists (``{"prompt": [messages], "completion": [messages]}``).

Writes the string form when the record is one user turn and one answer, the conversational
form otherwise (system prompts, several turns, tool calls).
"""

from __future__ import annotations

from typing import Any

from curator.errors import RowError
from curator.formats.common import ReadOptions, WriteOptions, extras, join_think, rename_columns, split_think, text_of
from curator.formats.messages import parse_message, render_message
from curator.record import Conversation, Message

NAME = "prompt_completion"
_KNOWN = frozenset({"prompt", "completion", "id", "tools"})


def matches(row: dict[str, Any]) -> bool:
    return "prompt" in row and "completion" in row


def parse(row: dict[str, Any], opts: ReadOptions) -> Conversation:
    if opts.mapping:
        row = rename_columns(row, opts.column_map)
    if "prompt" not in row:
        raise RowError("missing_field", "no 'prompt' field", field="prompt")
    prompt, completion = row["prompt"], row.get("completion")
    messages: list[Message] = []
    if isinstance(prompt, list):
        messages += [parse_message(m, i, opts, "prompt") for i, m in enumerate(prompt)]
    else:
        messages.append(Message("user", text_of(prompt, "prompt")))
    if isinstance(completion, list):
        messages += [parse_message(m, i, opts, "completion") for i, m in enumerate(completion)]
    else:
        text = text_of(completion, "completion")
        if text:
            reasoning = None
            if opts.split_think:
                reasoning, text = split_think(text, opts, "completion")
            messages.append(Message("assistant", text, reasoning=reasoning or None))
    meta: dict[str, Any] = {}
    ex = extras(row, _KNOWN)
    if ex:
        meta["extra"] = ex
    rid = row.get("id")
    return Conversation(messages=messages, id=str(rid) if rid not in (None, "") else "",
                        tools=row.get("tools") or None, meta=meta)


def render(conv: Conversation, opts: WriteOptions) -> dict[str, Any]:
    idx = conv.last_index("assistant")
    if idx is None:
        raise RowError("unrepresentable", "no assistant turn to become the completion")
    prompt, completion = conv.messages[:idx], conv.messages[idx:]
    d: dict[str, Any] = {}
    if not conv.meta.get("id_hashed"):
        d["id"] = conv.id
    simple = (len(prompt) == 1 and prompt[0].role == "user" and len(completion) == 1
              and not completion[0].tool_calls and completion[0].weight is None and not conv.tools)
    if simple:
        a = completion[0]
        d["prompt"] = prompt[0].content
        d["completion"] = join_think(a.reasoning, a.content, opts if opts.reasoning != "auto" else
                                     WriteOptions(reasoning="tags", think_open=opts.think_open,
                                                  think_close=opts.think_close))
    else:
        d["prompt"] = [render_message(m, opts) for m in prompt]
        d["completion"] = [render_message(m, opts) for m in completion]
        if conv.tools is not None:
            d["tools"] = conv.tools
    extra = conv.meta.get("extra")
    if extra:
        for key, value in extra.items():
            d.setdefault(key, value)
    return d
