"""Assistant spans by incremental rendering: the text each assistant turn adds to the render.

For a template with no ``{% generation %}`` markers and no training variant that renders the same
text, the assistant turns are found without touching the template. With ``F`` the full render:

- turn i starts after ``render(messages[:i])`` plus as much of the generation prompt
  (``add_generation_prompt=True``) as ``F`` repeats there — the header the model is given at
  inference (``<|im_start|>assistant\\n``, ``<start_of_turn>model\\n``...) is not trained;
- turn i ends where ``render(messages[:i+1])`` ends. Templates that drop an earlier turn's reasoning
  once a later user turn follows (Qwen3, DeepSeek-R1) render it differently as the last message;
  then the turn rendered without its reasoning must match. Qwen3 also writes an empty ``<think>``
  block only for the latest answer; for such a turn the end is the first end-of-turn token after
  its start, accepted only when the turn's answer and tool-call names all lie before it.

Each boundary must be a prefix of ``F`` and the boundaries must be in order, so ``F`` is exactly
the concatenation of the prompt pieces and the turns; anything else returns a reason and the
caller refuses the record. Whitespace the template writes after a turn's end-of-turn token (the
``\\n`` after ``<|im_end|>``) is left untrained, as the training variants do.
"""

from __future__ import annotations

from typing import Any, Callable

from trainer.templates import RenderError

REASONING_KEYS = ("reasoning_content", "thinking", "reasoning")
Render = Callable[[list[dict], bool], str]  # (messages, add_generation_prompt) -> text


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of content blocks."""
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return content if isinstance(content, str) else ""


def _without_reasoning(message: dict, think_open: str = "<think>", think_close: str = "</think>") -> dict:
    m = {k: v for k, v in message.items() if k not in REASONING_KEYS}
    content = m.get("content")
    if isinstance(content, str) and content.lstrip().startswith(think_open) and think_close in content:
        m["content"] = content.split(think_close, 1)[1].lstrip("\n")
    return m


def _payload(message: dict) -> list[str]:
    """Text of a turn that must lie inside its span: the end of its answer and its tool-call names."""
    content = text_of(message.get("content"))
    out = []
    if content.strip():
        out.append(content.split("</think>")[-1].strip()[-16:])
    out += [c["function"]["name"] for c in message.get("tool_calls") or [] if isinstance(c.get("function"), dict)]
    return [x for x in out if x]


def _turn_end(render: Render, messages: list[dict], i: int, full: str, start: int, eot_tokens: set[str]) -> int | str:
    for candidate in (messages[i], _without_reasoning(messages[i])):
        try:
            upto = render(messages[:i] + [candidate], False)
        except RenderError as e:
            return f"rendering the conversation up to turn {i} failed ({e})"
        if full.startswith(upto) and len(upto) >= start:
            return len(upto)
    # Rendered as the last message the turn differs from its place in the history (Qwen3 writes an
    # empty <think> block only for the latest answer): it ends at the first end-of-turn token after
    # its start, provided its answer and tool-call names all lie before that token.
    hits = [(h, h + len(t)) for t in eot_tokens if (h := full.find(t, start)) >= 0]
    if hits:
        end = min(hits)[1]
        payload = _payload(messages[i])
        if payload and all(x in full[start:end] for x in payload):
            return end
    return (f"assistant turn {i} renders differently when later messages follow, and its answer does not "
            f"end at an end-of-turn token")


def assistant_char_spans(render: Render, messages: list[dict], full: str, eot_tokens: set[str]) -> list[tuple[int, int]] | str:
    """[start, end) character span of each assistant turn in `full`, or why none can be proven."""
    spans: list[tuple[int, int]] = []
    last_end = 0
    for i, m in enumerate(messages):
        if m.get("role") != "assistant":
            continue
        try:
            before, prompt = render(messages[:i], False), render(messages[:i], True)
        except RenderError as e:
            if i:
                return f"rendering the conversation up to turn {i} failed ({e})"
            before = prompt = ""  # an answer with nothing before it: many templates cannot render []
        if not full.startswith(before):
            return f"the render of the messages before turn {i} is not a prefix of the full render"
        if len(before) < last_end:
            return f"assistant turn {i} overlaps the one before it"
        start = len(before)
        if prompt.startswith(before):  # the header the generation prompt adds, as far as the turn repeats it
            start += _common_prefix(prompt[len(before):], full[len(before):])
        end = _turn_end(render, messages, i, full, start, eot_tokens)
        if isinstance(end, str):
            return end
        spans.append((start, _trim_after_eot(full, start, end, eot_tokens)))
        last_end = end
    return spans


def _trim_after_eot(full: str, start: int, end: int, eot_tokens: set[str]) -> int:
    """Leave whitespace after the end-of-turn token out of the span (the model stops at the token)."""
    stripped = len(full[start:end].rstrip()) + start
    if stripped < end and any(full[start:stripped].endswith(t) for t in eot_tokens):
        return stripped
    return end


def token_spans(offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans -> [start, end) token spans: every token overlapping a span (as HF's mask does)."""
    out = []
    for s, e in spans:
        toks = [j for j, (a, b) in enumerate(offsets) if b > s and a < e]
        out.append((toks[0], toks[-1] + 1) if toks else (0, 0))
    return out


def tokenize_with_offsets(tokenizer: Any, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Tokenize as `apply_chat_template(tokenize=True)` does (no added special tokens), with offsets."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
