"""OpenAI / Volcengine Ark `messages` JSONL — also the canonical format.

Accepts content as a string or a list of text parts (``{"type":"text","text"|"value"}``,
LLaMA-Factory v1 uses "value"), the loss weight as `weight` (OpenAI, Ark) or `loss_weight`
(LLaMA-Factory), reasoning as `reasoning_content` or an R1-style think block in the content.
"""

from __future__ import annotations

from typing import Any

import orjson

from curator.errors import RowError
from curator.formats.common import (
    ReadOptions, WriteOptions, extras, join_think, rename_columns, split_think, suggest, text_of,
)
from curator.record import ROLES, Conversation, Message

NAME = "messages"
_KNOWN = frozenset({"id", "messages", "tools", "meta"})
_MSG_KNOWN = frozenset({"role", "content", "reasoning_content", "reasoning", "tool_calls", "name",
                        "tool_call_id", "weight", "loss_weight"})


def matches(row: dict[str, Any]) -> bool:
    return "messages" in row


def parse_message(m: Any, i: int, opts: ReadOptions, field: str = "messages") -> Message:
    where = f"{field}[{i}]"
    if not isinstance(m, dict):
        raise RowError("bad_structure", f"{where} is a {type(m).__name__}, not an object", field=where,
                       fix='each message is {"role": ..., "content": ...}')
    role = m.get("role")
    if not isinstance(role, str):
        raise RowError("missing_field", f"{where} has no role", field=f"{where}.role",
                       fix="add a role: system, user, assistant or tool")
    if role not in ROLES:
        low = role.strip().lower()
        if low in ROLES:
            role = low
        else:
            hint = suggest(role, ROLES)
            raise RowError("unknown_role", f"unknown role '{role}' in {where}", field=f"{where}.role",
                           fix=f"did you mean '{hint}'?" if hint else "roles are system, user, assistant, tool")
    content = text_of(m.get("content"), f"{where}.content")
    reasoning = m.get("reasoning_content", m.get("reasoning"))
    if reasoning is not None:
        reasoning = text_of(reasoning, f"{where}.reasoning_content")
    elif role == "assistant" and opts.split_think:
        reasoning, content = split_think(content, opts, f"{where}.content")
    weight = m.get("weight", m.get("loss_weight"))
    if weight is not None and not isinstance(weight, (int, float)):
        raise RowError("bad_structure", f"{where}.weight is {weight!r}, not a number", field=f"{where}.weight",
                       fix="use 0 (not trained) or 1 (trained)")
    tool_calls = m.get("tool_calls")
    if isinstance(tool_calls, str):  # Parquet keeps tool calls as JSON text
        tool_calls = json_field(tool_calls, f"{where}.tool_calls") if tool_calls.strip() else None
    if tool_calls is not None:
        tool_calls = normalise_tool_calls(tool_calls, where)
    name = m.get("name")
    tcid = m.get("tool_call_id")
    return Message(role=role, content=content, reasoning=reasoning or None, tool_calls=tool_calls,
                   name=name if isinstance(name, str) else None,
                   tool_call_id=tcid if isinstance(tcid, str) else None,
                   weight=float(weight) if weight is not None else None)


def json_field(text: str | bytes, where: str) -> Any:
    """A field stored as JSON text (Parquet keeps meta, tools and tool_calls that way)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RowError("bad_structure", f"{where} is text that is not JSON ({str(text)[:40]!r})", field=where,
                       fix=f"{where} must be JSON (an object or list), not plain text") from None


def normalise_tool_calls(calls: Any, where: str) -> list[dict[str, Any]] | None:
    """OpenAI shape: ``[{"id", "type": "function", "function": {"name", "arguments": str}}]``."""
    if not calls:
        return None
    if not isinstance(calls, list):
        calls = [calls]
    out = []
    for j, c in enumerate(calls):
        if not isinstance(c, dict):
            raise RowError("bad_structure", f"{where}.tool_calls[{j}] is not an object", field=f"{where}.tool_calls")
        fn = c.get("function", c)  # also accept a bare {"name", "arguments"}
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str) or not name:
            raise RowError("bad_structure", f"{where}.tool_calls[{j}] has no function name",
                           field=f"{where}.tool_calls", fix='use {"function": {"name": ..., "arguments": ...}}')
        args = fn.get("arguments", {})
        if not isinstance(args, str):
            args = orjson.dumps(args).decode()
        out.append({"id": c.get("id") or f"call_{j}", "type": "function",
                    "function": {"name": name, "arguments": args}})
    return out


def parse(row: dict[str, Any], opts: ReadOptions) -> Conversation:
    if opts.mapping:
        row = rename_columns(row, opts.column_map)
    msgs = row.get("messages")
    if not isinstance(msgs, list):
        raise RowError("missing_field", "no 'messages' list", field="messages",
                       fix="each row needs a messages list (or pass --from to pick another format)")
    messages = [parse_message(m, i, opts) for i, m in enumerate(msgs)]
    meta = row.get("meta")
    if isinstance(meta, (str, bytes)):  # Parquet stores free-form meta as JSON text
        meta = json_field(meta, "meta") if meta.strip() else None
    if meta is not None and not isinstance(meta, dict):
        raise RowError("bad_structure", f"meta is a {type(meta).__name__}, not an object", field="meta",
                       fix='meta must be an object such as {"source": "x"}, or left out')
    meta = dict(meta) if meta else {}
    tools = row.get("tools")
    if isinstance(tools, str):
        tools = json_field(tools, "tools") if tools.strip() else None
    if tools is not None and not isinstance(tools, list):
        raise RowError("bad_structure", f"tools is a {type(tools).__name__}, not a list", field="tools",
                       fix='tools must be a list of {"type": "function", "function": {...}}')
    ex = extras(row, _KNOWN)
    if ex:
        meta.setdefault("extra", {}).update(ex)
    rid = row.get("id")
    return Conversation(messages=messages, id=str(rid) if rid not in (None, "") else "", tools=tools or None,
                        meta=meta)


def render_message(m: Message, opts: WriteOptions) -> dict[str, Any]:
    if m.reasoning and opts.reasoning in ("tags",):
        d = m.to_dict()
        d.pop("reasoning_content", None)
        d["content"] = join_think(m.reasoning, m.content, opts)
        return d
    d = m.to_dict()
    if opts.reasoning == "drop":
        d.pop("reasoning_content", None)
    return d


def render(conv: Conversation, opts: WriteOptions) -> dict[str, Any]:
    if opts.strip_meta:
        return render_upload(conv, opts)
    d: dict[str, Any] = {"id": conv.id, "messages": [render_message(m, opts) for m in conv.messages]}
    if conv.tools is not None:
        d["tools"] = conv.tools
    d["meta"] = conv.meta
    return d


def render_upload(conv: Conversation, opts: WriteOptions) -> dict[str, Any]:
    """`--strip-meta`: a row OpenAI's (and Volcengine Ark's) fine-tuning upload takes as is.

    Their rules, checked here rather than at upload time: `tools` entries are
    ``{"type": "function", "function": {name, description, parameters}}``; `weight` appears only on
    assistant messages and is 0 or 1 (the loss of system/user/tool turns is never trained, so a
    weight there is dropped rather than sent); no `id`/`meta`. Roles are already system, user,
    assistant or tool (`curator.record`), tool calls already OpenAI-shaped (`normalise_tool_calls`).
    """
    msgs = []
    for i, m in enumerate(conv.messages):
        d = render_message(m, opts)
        w = d.pop("weight", None)
        if m.role == "assistant" and w is not None:
            if w not in (0, 1):
                raise RowError("unrepresentable", f"messages[{i}] has weight {w}; fine-tuning uploads take 0 or 1",
                               field=f"messages[{i}].weight",
                               fix="set the weight to 0 or 1, or write without --strip-meta")
            d["weight"] = int(w)
        msgs.append(d)
    out: dict[str, Any] = {"messages": msgs}
    if conv.tools is not None:
        out["tools"] = [openai_tool(t, k) for k, t in enumerate(conv.tools)]
    return out


def openai_tool(tool: Any, k: int) -> dict[str, Any]:
    """One tool in OpenAI's shape; a bare ``{name, description, parameters}`` (glaive, LLaMA-Factory)
    is wrapped as ``{"type": "function", "function": {...}}``."""
    if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("function"), dict):
        return tool
    if isinstance(tool, dict) and isinstance(tool.get("name"), str) and tool["name"]:
        return {"type": "function", "function": tool}
    raise RowError("unrepresentable", f"tools[{k}] is not a function definition", field=f"tools[{k}]",
                   fix='write {"name": ..., "description": ..., "parameters": {...}}')
