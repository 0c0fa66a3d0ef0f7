"""Alpaca: ``instruction``, ``input``, ``output``, optional ``system`` and ``history``
(``[[prompt, response], ...]`` for earlier turns, LLaMA-Factory's convention).

The user turn is ``instruction + "\\n" + input``, or just the non-empty one of the two
(LLaMA-Factory joins them the same way); the
`input` is kept in ``meta.alpaca_input`` so that Alpaca -> messages -> Alpaca gives back the same
rows. An empty `output` means a prompt without an answer (what `curate distill` fills).
"""

from __future__ import annotations

from typing import Any

from curator.errors import RowError
from curator.formats.common import (
    ReadOptions, WriteOptions, extras, join_think, rename_columns, split_think, text_of,
)
from curator.record import Conversation, Message

NAME = "alpaca"
_KNOWN = frozenset({"instruction", "input", "output", "system", "history", "id"})


def matches(row: dict[str, Any]) -> bool:
    return "instruction" in row


def _answer(text: str, opts: ReadOptions, field: str) -> Message:
    reasoning = None
    if opts.split_think:
        reasoning, text = split_think(text, opts, field)
    return Message("assistant", text, reasoning=reasoning or None)


def parse(row: dict[str, Any], opts: ReadOptions) -> Conversation:
    if opts.mapping:
        row = rename_columns(row, opts.column_map)
    if "instruction" not in row:
        raise RowError("missing_field", "no 'instruction' field", field="instruction",
                       fix="Alpaca rows need instruction/input/output (use --map instruction=YOUR_COLUMN)")
    instruction = text_of(row["instruction"], "instruction")
    instances = row.get("instances")
    if "output" not in row and isinstance(instances, list):
        # Self-Instruct rows: instruction + instances [{input, output}]
        if len(instances) != 1 or not isinstance(instances[0], dict):
            raise RowError("bad_structure", f"row has {len(instances)} instances; one per row is supported",
                           field="instances", fix="split the instances into separate rows")
        row = {**{k: v for k, v in row.items() if k != "instances"}, **instances[0]}
    inp = text_of(row.get("input"), "input")
    output = text_of(row.get("output"), "output")
    messages: list[Message] = []
    system = row.get("system")
    if system:
        messages.append(Message("system", text_of(system, "system")))
    history = row.get("history") or []
    if not isinstance(history, list):
        raise RowError("bad_structure", "history is not a list of [prompt, response] pairs", field="history")
    for i, pair in enumerate(history):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise RowError("bad_structure", f"history[{i}] is not a [prompt, response] pair", field="history",
                           fix='write history as [["question", "answer"], ...]')
        messages.append(Message("user", text_of(pair[0], f"history[{i}][0]")))
        messages.append(_answer(text_of(pair[1], f"history[{i}][1]"), opts, f"history[{i}][1]"))
    # only the non-empty parts (an empty instruction with an input is the input alone, as in
    # LLaMA-Factory's converter, not "\n" + input)
    messages.append(Message("user", "\n".join(x for x in (instruction, inp) if x)))
    if output:
        messages.append(_answer(output, opts, "output"))
    meta: dict[str, Any] = {}
    if inp:
        meta["alpaca_input"] = inp
    ex = extras(row, _KNOWN)
    if ex:
        meta["extra"] = ex
    rid = row.get("id")
    return Conversation(messages=messages, id=str(rid) if rid not in (None, "") else "", meta=meta)


def render(conv: Conversation, opts: WriteOptions) -> dict[str, Any]:
    msgs = conv.messages
    if conv.tools or any(m.role == "tool" or m.tool_calls for m in msgs):
        raise RowError("unrepresentable", "Alpaca cannot hold tool calls or tool results",
                       fix="convert to sharegpt or messages instead")
    if any(m.role == "assistant" and m.weight == 0 for m in msgs):
        raise RowError("unrepresentable", "Alpaca cannot hold per-message loss weights (an answer has weight 0)",
                       fix="convert to messages, which keeps weight")
    system = None
    i = 0
    if msgs and msgs[0].role == "system":
        system = msgs[0].content
        i = 1
    if any(m.role == "system" for m in msgs[i:]):
        raise RowError("unrepresentable", "Alpaca has one system prompt, at the start")
    body = msgs[i:]
    pairs: list[list[str]] = []
    k = 0
    while k < len(body):
        u = body[k]
        a = body[k + 1] if k + 1 < len(body) else None
        if u.role != "user" or (a is not None and a.role != "assistant"):
            raise RowError("unrepresentable", "Alpaca needs alternating user/assistant turns")
        pairs.append([u.content, join_think(a.reasoning, a.content, opts) if a is not None else ""])
        k += 2
    if not pairs:
        raise RowError("unrepresentable", "no user turn to become the instruction")
    prompt, output = pairs.pop()
    inp = conv.meta.get("alpaca_input") or ""
    instruction = prompt
    if inp and prompt.endswith("\n" + inp):
        instruction = prompt[: -len(inp) - 1]
    elif inp and prompt == inp:  # the instruction was empty
        instruction = ""
    else:
        inp = ""
    d: dict[str, Any] = {}
    if not conv.meta.get("id_hashed"):
        d["id"] = conv.id
    d.update({"instruction": instruction, "input": inp, "output": output})
    if system is not None:
        d["system"] = system
    if pairs:
        d["history"] = pairs
    extra = conv.meta.get("extra")
    if extra:
        for key, value in extra.items():
            d.setdefault(key, value)
    return d
