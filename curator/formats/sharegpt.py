"""ShareGPT: ``conversations`` of ``{from, value}``.

Covers LLaMA-Factory's convention (tags human/gpt/system/function_call/observation, optional
``system`` and ``tools`` columns, preference rows with ``chosen``/``rejected``) and the original
ShareGPT/FastChat files (``id``, ``conversations``). Messages written with ``role``/``content``
keys instead of ``from``/``value`` are read too.

A `function_call` turn becomes an assistant message with OpenAI-shaped `tool_calls`; an
`observation` becomes a `tool` message answering the call before it. A preference row keeps
`chosen` as the answer and the rejected answer in ``meta.rejected``, so it converts back.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from curator.errors import RowError
from curator.formats.common import (
    ReadOptions, WriteOptions, extras, join_think, rename_columns, split_think, suggest, text_of,
)
from curator.formats.messages import normalise_tool_calls
from curator.record import Conversation, Message

NAME = "sharegpt"
_KNOWN = frozenset({"conversations", "system", "tools", "id", "chosen", "rejected"})

# tag -> role; "function_call" is special-cased (an assistant turn that calls tools).
TAGS: dict[str, str] = {
    "human": "user", "user": "user",
    "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bard": "assistant",
    "bing": "assistant", "model": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool", "tool": "tool", "function": "tool",
}
# What we write: LLaMA-Factory's tags.
OUT_TAG = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}


def matches(row: dict[str, Any]) -> bool:
    return "conversations" in row


def _tool_calls_from_value(value: str, where: str) -> list[dict[str, Any]]:
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as e:
        raise RowError("bad_structure", f"{where} is a function_call whose value is not JSON ({e})",
                       field=where, fix='write {"name": ..., "arguments": {...}}') from None
    calls = normalise_tool_calls(obj if isinstance(obj, list) else [obj], where)
    return calls or []


def _turn(turn: Any, i: int, opts: ReadOptions, tag_map: dict[str, str], field: str = "conversations"):
    where = f"{field}[{i}]"
    if isinstance(turn, str) and field in ("chosen", "rejected") and turn.startswith("{"):
        try:  # Parquet stores the chosen/rejected turns as JSON text
            turn = orjson.loads(turn)
        except orjson.JSONDecodeError:
            pass
    if not isinstance(turn, dict):
        raise RowError("bad_structure", f"{where} is a {type(turn).__name__}, not an object", field=where,
                       fix='each turn is {"from": ..., "value": ...}')
    tag = turn.get("from", turn.get("role"))
    if not isinstance(tag, str):
        raise RowError("missing_field", f"{where} has no 'from' tag", field=f"{where}.from",
                       fix="add from: human, gpt, system, function_call or observation")
    tag = tag_map.get(tag, tag)
    key = tag.strip().lower()
    if key not in TAGS:
        hint = suggest(key, list(TAGS))
        raise RowError("unknown_role", f"unknown tag '{tag}' in {where}", field=f"{where}.from",
                       fix=f"did you mean '{hint}'?" if hint else "tags are human, gpt, system, function_call, observation")
    value = turn.get("value", turn.get("content"))
    text = text_of(value, f"{where}.value")
    if key == "function_call":
        return Message("assistant", "", tool_calls=_tool_calls_from_value(text, where))
    role = TAGS[key]
    reasoning = None
    if role == "assistant" and opts.split_think:
        reasoning, text = split_think(text, opts, f"{where}.value")
    return Message(role, text, reasoning=reasoning or None)


def parse(row: dict[str, Any], opts: ReadOptions) -> Conversation:
    if opts.mapping:
        row = rename_columns(row, opts.column_map)
    conv = row.get("conversations")
    if not isinstance(conv, list):
        raise RowError("missing_field", "no 'conversations' list", field="conversations",
                       fix="ShareGPT rows need conversations: [{from, value}, ...]")
    tag_map = opts.tag_map
    messages: list[Message] = []
    system = row.get("system")
    if system:
        messages.append(Message("system", text_of(system, "system")))
    for i, turn in enumerate(conv):
        messages.append(_turn(turn, i, opts, tag_map))
    meta: dict[str, Any] = {}
    if not system and messages and messages[0].role == "system":
        # Some files (LLaMA-Factory's dpo demo) put the system prompt in the first turn instead
        # of the `system` column; remember which, so the row converts back the way it came.
        meta["sharegpt_system_turn"] = True
    # Link each observation to the call before it (OpenAI needs tool_call_id).
    pending: list[str] = []
    for m in messages:
        if m.tool_calls:
            pending = [c["id"] for c in m.tool_calls]
        elif m.role == "tool" and pending:
            m.tool_call_id = pending.pop(0)
    if row.get("chosen") is not None:
        messages.append(_turn(row["chosen"], 0, opts, tag_map, "chosen"))
        rej = row.get("rejected")
        if rej is not None:
            meta["rejected"] = _turn(rej, 0, opts, tag_map, "rejected").to_dict()
    raw_tools = tools = row.get("tools")
    if isinstance(tools, str):
        try:
            tools = orjson.loads(tools) if tools.strip() else None
        except orjson.JSONDecodeError as e:
            raise RowError("bad_structure", f"tools is not valid JSON ({e})", field="tools") from None
    if tools is not None and not isinstance(tools, list):
        tools = [tools]
    if raw_tools is not None and not tools:
        # An empty tools column ("" or "[]" in glaive files) means no tools; keep it verbatim in
        # meta.extra so that writing ShareGPT again gives back the same row.
        meta.setdefault("extra", {})["tools"] = raw_tools
        tools = None
    ex = extras(row, _KNOWN)
    if ex:
        meta.setdefault("extra", {}).update(ex)
    rid = row.get("id")
    return Conversation(messages=messages, id=str(rid) if rid not in (None, "") else "", tools=tools or None,
                        meta=meta)


def _call_value(calls: list[dict[str, Any]]) -> str:
    out = []
    for c in calls:
        fn = c.get("function", c)
        args = fn.get("arguments", "{}")
        try:
            args = json.loads(args) if isinstance(args, str) else args
        except json.JSONDecodeError:
            pass
        out.append({"name": fn.get("name"), "arguments": args})
    return json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False)


def render(conv: Conversation, opts: WriteOptions) -> dict[str, Any]:
    msgs = list(conv.messages)
    if any(m.weight == 0 and m.role == "assistant" for m in msgs):
        raise RowError("unrepresentable", "ShareGPT cannot hold per-message loss weights (an answer has weight 0)",
                       fix="convert to messages, which keeps weight")
    d: dict[str, Any] = {}
    if not conv.meta.get("id_hashed"):
        d["id"] = conv.id
    rejected = conv.meta.get("rejected")
    chosen = None
    if rejected and msgs and msgs[-1].role == "assistant":
        chosen = msgs.pop()
    turns = []
    for m in msgs:
        if m.role == "system" and not turns and "system" not in d and not conv.meta.get("sharegpt_system_turn"):
            d["system"] = m.content
            continue
        if m.tool_calls:
            if m.content:
                turns.append({"from": "gpt", "value": join_think(m.reasoning, m.content, opts)})
            turns.append({"from": "function_call", "value": _call_value(m.tool_calls)})
            continue
        value = join_think(m.reasoning, m.content, opts) if m.role == "assistant" else m.content
        turns.append({"from": OUT_TAG[m.role], "value": value})
    d["conversations"] = turns
    if chosen is not None:
        d["chosen"] = {"from": "gpt", "value": join_think(chosen.reasoning, chosen.content, opts)}
        rej = Message.from_dict(rejected)
        d["rejected"] = {"from": "gpt", "value": join_think(rej.reasoning, rej.content, opts)}
    if conv.tools is not None:
        d["tools"] = json.dumps(conv.tools, ensure_ascii=False)
    extra = conv.meta.get("extra")
    if extra:
        for key, value in extra.items():
            d.setdefault(key, value)
    return d
