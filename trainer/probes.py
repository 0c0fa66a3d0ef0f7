"""Probe renders that tell how a chat template wants its input and how its turns end.

Each probe renders a tiny conversation with the model's own template and reads the answer off the
text, so nothing depends on knowing the family by name: which end-of-turn tokens the template
writes (after an answer, after a tool call, or none at all as in GLM), which message key it reads
reasoning from, whether tool-call arguments must be objects or strings, and whether it renders
plain string content or only content blocks.
"""

from __future__ import annotations

import re
from typing import Any

from curator.errors import UsageError
from trainer.spans import REASONING_KEYS, tokenize_with_offsets
from trainer.templates import RenderError, render, special_ids

FIX = "pass --chat-template FILE with {% generation %} markers around each assistant reply and its end-of-turn token"
PROBE_REASONING = "probe-reasoning-3f9"
PROBE_TOOL = "probe_tool_7c1"
PROBE = [{"role": "user", "content": "question"},  # no system turn: Gemma's templates refuse one
          {"role": "assistant", "content": "answer one"}, {"role": "user", "content": "again"},
          {"role": "assistant", "content": "answer two"}]


def learn_eot(tokenizer: Any, tool_probe: list[dict] | None, blocks: bool) -> set[int]:
    """End-of-turn tokens, read off the own template's render of the probes: the first special token
    after each answer, every special token after the last one (gpt-oss ends earlier turns with
    <|end|> and the last with <|return|>; Phi-3 adds EOS after the last <|end|>), and the token a
    tool-call turn ends with (gpt-oss <|call|>, Gemma 4 <|tool_response>)."""
    try:
        full = render(tokenizer, shape(PROBE, blocks))
    except RenderError as e:
        raise UsageError(f"the chat template cannot render a plain two-turn chat ({e}); {FIX}") from None
    ids, offsets = tokenize_with_offsets(tokenizer, full)
    specials = special_ids(tokenizer)
    eot: set[int] = set()
    pos = 0
    for answer in ("answer one", "answer two"):
        at = full.find(answer, pos)
        if at < 0:
            raise UsageError(f"the chat template does not render the assistant's answer; {FIX}")
        pos = at + len(answer)
        after = [i for i, (a, _) in zip(ids, offsets) if a >= pos and i in specials]
        if after:
            eot.add(after[0])
    eot.update(i for i, (a, _) in zip(ids, offsets) if a >= pos and i in specials)
    if not eot:
        raise UsageError("the chat template does not end assistant turns with a special token, so the model would "
                         "never learn to stop; " + FIX)
    if tool_probe is not None:
        try:
            before, upto, full = (render(tokenizer, tool_probe[:1]), render(tokenizer, tool_probe[:2]),
                                  render(tokenizer, tool_probe))
        except RenderError:
            return eot
        if full.startswith(upto) and upto.startswith(before):
            if next_role_ends_turn(tokenizer, specials, blocks):  # GLM: <|observation|> ends a tool-call turn
                rest = [i for i, (a, _) in zip(*tokenize_with_offsets(tokenizer, full)) if a >= len(upto) and i in specials]
                eot.update(rest[:1])
            else:
                turn_ids, _ = tokenize_with_offsets(tokenizer, upto[len(before):].rstrip())
                if turn_ids and turn_ids[-1] in specials:
                    eot.add(turn_ids[-1])
    return eot


def next_role_ends_turn(tokenizer: Any, specials: set[int], blocks: bool) -> bool:
    """True for templates (GLM) that write nothing after an answer: the next role token ends the turn."""
    try:
        alone = render(tokenizer, shape(PROBE[:2], blocks))
    except RenderError:
        return False
    at = alone.find("answer one")
    ids, offsets = tokenize_with_offsets(tokenizer, alone)
    return at >= 0 and not any(i in specials for i, (a, _) in zip(ids, offsets) if a >= at)


def shape(messages: list[dict], blocks: bool) -> list[dict]:
    from trainer.chat_rows import as_content_blocks

    return as_content_blocks(messages) if blocks else messages


def needs_content_blocks(tokenizer: Any) -> bool:
    """True for image-text templates that render only content blocks, not string content."""
    def shows(blocks: bool) -> bool:
        try:
            return "answer one" in render(tokenizer, shape(PROBE, blocks))
        except RenderError:
            return False

    return not shows(False) and shows(True)


def reasoning_mode(tokenizer: Any, template: str, blocks: bool) -> tuple[str | None, str]:
    """Which message key the template renders reasoning from, as a probe render shows.

    A template that reads a reasoning key but shows nothing for a final answer (Gemma 4 before its
    latest revision) still gets the reasoning under that key — it decides where it appears; a
    template that reads none gets an R1-style <think> block in the content, unless it strips that
    too (DeepSeek-R1's distills), in which case no reasoning can be trained with it.
    """
    def shows(msg: dict) -> bool:
        try:
            return PROBE_REASONING in render(tokenizer, shape([{"role": "user", "content": "q"}, msg], blocks))
        except RenderError:
            return False

    for key in REASONING_KEYS:
        if shows({"role": "assistant", "content": "a", key: PROBE_REASONING}):
            return key, "native"
    for key in REASONING_KEYS:
        if re.search(rf"\b{key}\b", template):
            return key, "template"
    inline = f"<think>\n{PROBE_REASONING}\n</think>\n\na"
    return None, ("inline" if shows({"role": "assistant", "content": inline}) else "dropped")


def tool_probe(arguments: str, blocks: bool) -> list[dict]:
    from trainer.chat_rows import template_tool_calls

    calls = [{"id": "call_0", "type": "function", "function": {"name": PROBE_TOOL, "arguments": '{"city": "Paris"}'}}]
    return shape([{"role": "user", "content": "q"},
                   {"role": "assistant", "content": "", "tool_calls": template_tool_calls(calls, arguments)},
                   {"role": "tool", "content": "sunny", "tool_call_id": "call_0", "name": PROBE_TOOL},
                   {"role": "assistant", "content": "done"}], blocks)


def tool_call_mode(tokenizer: Any, blocks: bool) -> tuple[str, str]:
    """How tool-call arguments must be passed (objects, the HF convention, else strings) and
    whether the template renders tool calls at all."""
    rendered_any = False
    for arguments in ("object", "string"):
        try:
            text = render(tokenizer, tool_probe(arguments, blocks))
        except RenderError:
            continue
        rendered_any = True
        if PROBE_TOOL in text:
            return arguments, "rendered"
    return "object", ("dropped" if rendered_any else "unsupported")
