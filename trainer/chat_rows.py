"""One curated record -> the conversational row TRL and chat templates take.

Each record becomes a ``{"messages": [...], "tools": [...]}`` row in the Hugging Face
chat-template convention:

- tool-call ``arguments`` are objects, not the JSON strings the canonical (OpenAI) record stores —
  templates ``tojson`` them, so a string would be rendered double-encoded
  (``"arguments": "{\\"city\\": ...}"``); the few templates that concatenate strings
  (DeepSeek-V3) get strings, decided by `trainer.masking` from a probe render;
- ``tools`` are in the ``{"type": "function", "function": {...}}`` shape the templates index;
- reasoning goes under the key the template reads (``reasoning_content`` for Qwen3/GLM/Gemma 4,
  ``thinking`` for gpt-oss/LFM2.5), or, for a template that reads none, as an R1-style
  ``<think>`` block at the start of the content. Templates that drop earlier turns' thinking
  (Qwen3, DeepSeek-R1) still get it on every turn and drop it themselves.

Per-message `weight` stays on the message dicts (templates ignore keys they do not use, and
`trainer.masking` reads the weights). Templates that only render content blocks get
``[{"type": "text", "text": ...}]`` instead of strings.
"""

from __future__ import annotations

import json
from typing import Any

from curator.formats.common import DEFAULT_WRITE, join_think
from curator.record import Conversation


def template_tool_calls(calls: list[dict[str, Any]] | None, arguments: str = "object") -> list[dict[str, Any]] | None:
    """Tool calls with ``function.arguments`` as an object (``arguments="object"``) or a JSON string."""
    if not calls:
        return calls
    out = []
    for c in calls:
        fn = dict(c.get("function") or {})
        args = fn.get("arguments")
        if arguments == "object" and isinstance(args, str):
            try:
                parsed = json.loads(args) if args.strip() else {}
            except ValueError:
                parsed = args  # not JSON: the template gets it as written rather than a guess
            fn["arguments"] = parsed
        elif arguments == "string" and not isinstance(args, str):
            fn["arguments"] = json.dumps(args, ensure_ascii=False)
        out.append({**c, "function": fn})
    return out


def template_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Tool schemas in the ``{"type": "function", "function": {...}}`` shape (bare schemas are wrapped)."""
    if not tools:
        return tools
    return [t if "function" in t else {"type": "function", "function": t} for t in tools]


def as_content_blocks(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages with string content as ``[{"type": "text", "text": ...}]`` (image-text templates
    such as Idefics3, LLaVA-NeXT and SmolVLM only render content blocks)."""
    return [dict(m, content=[{"type": "text", "text": m["content"]}]) if isinstance(m.get("content"), str) else m
            for m in messages]


def to_messages(conv: Conversation, *, reasoning: str = "keep", reasoning_key: str | None = "reasoning_content",
                arguments: str = "object", content_blocks: bool = False) -> dict[str, Any]:
    """One record as a conversational row for `apply_chat_template` (and TRL).

    `reasoning="drop"` removes the chain of thought (the model learns to answer directly).
    `reasoning_key` is the message key the template reads reasoning from; None writes it into the
    content as a ``<think>`` block instead, so it is still rendered inside the assistant turn.
    """
    msgs: list[dict[str, Any]] = []
    for m in conv.messages:
        keep = m.role == "assistant" and bool(m.reasoning) and reasoning == "keep"
        d = m.to_dict(reasoning=False)
        if keep and reasoning_key:
            d[reasoning_key] = m.reasoning
        elif keep:
            d["content"] = join_think(m.reasoning, m.content, DEFAULT_WRITE)
        if d.get("tool_calls"):
            d["tool_calls"] = template_tool_calls(d["tool_calls"], arguments)
        msgs.append(d)
    return {"messages": as_content_blocks(msgs) if content_blocks else msgs, "tools": template_tools(conv.tools)}
