"""The loss mask: which tokens the model is trained on, built and checked before training.

The text tokenized is always ``apply_chat_template(messages, tools=..., tokenize=False)`` with the
model's own template (or the file given with ``--chat-template``, which then replaces it and is
saved with the tokenizer), byte for byte. The assistant tokens are found without rewriting that
template, from the first source that can be proven to give the same text:

1. ``markers`` — the template's own ``{% generation %}`` markers (HF's assistant mask);
2. ``trl-variant`` — TRL's ``<name>_training.jinja`` for a template byte-identical to its
   ``<name>.jinja``, used for a record only when it renders exactly the text of the own template;
3. ``incremental`` — the text each assistant turn adds (`trainer.spans`), checked to reassemble
   the full render.

A record none of them can place is rejected (``template_mismatch``) with the reason; a template
that cannot place even a plain two-turn probe is refused before training.

The rules (the details users get wrong):
- prompt tokens (system, user, tool, the assistant header) are -100;
- every assistant turn is trained — its reasoning, answer, tool calls and the end-of-turn token —
  unless the message has ``weight: 0``, or ``train_on="last"`` and it is not the final turn;
- the end-of-turn token must be inside the mask, or the model never learns to stop (TRL #1623,
  PEFT #1672): markers that leave it just outside are fixed here (the token is added to the
  turn's span), and a template whose turns end with no special token is refused;
- a template that drops tool calls is never trained on records that have them: they are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.errors import RowError, UsageError
from trainer.probes import FIX as _FIX
from trainer.probes import PROBE, learn_eot, needs_content_blocks, reasoning_mode, shape, tool_call_mode, tool_probe
from trainer.spans import assistant_char_spans, token_spans, tokenize_with_offsets
from trainer.templates import RenderError, has_generation_markers, own_template, render, render_with_mask, trl_training_variant

IGNORE = -100
MASK_SOURCES = {
    "markers": "the template's own {{% generation %}} markers",
    "trl-variant": "TRL's training variant {variant} of this exact template (used only where it renders the same text)",
    "incremental": "incremental rendering (the text each assistant turn adds, checked to reassemble the full render)",
}


@dataclass
class TemplateInfo:
    """What the template check found; printed by `train --preview` and stored in the manifest."""

    source: str  # "model" or "file:<path>" (the named file replaces the model's own template)
    mask_source: str  # "markers" | "trl-variant" | "incremental": what placed the plain probe
    eot_ids: set[int] = field(default_factory=set)
    eot_tokens: list[str] = field(default_factory=list)
    eos_fix: bool = False  # the end-of-turn token follows the span; we add it to each span
    open_last: bool = False  # the template writes no end-of-turn token after the last answer
    reasoning_key: str | None = "reasoning_content"  # None: reasoning written as <think> into the content
    reasoning: str = "native"  # native | template (read, not shown for a final answer) | inline | dropped
    arguments: str = "object"  # tool-call arguments as objects, or JSON strings for templates that need them
    tool_calls: str = "rendered"  # rendered | dropped | unsupported
    content_blocks: bool = False  # the template renders only [{"type": "text", ...}] content (image-text models)
    variant_name: str | None = None
    variant: str | None = field(default=None, repr=False)

    def lines(self) -> list[str]:
        src = "the model's own template" if self.source == "model" else \
            f"{self.source[5:]} (named with --chat-template; replaces the model's own and is saved with the tokenizer)"
        mask = MASK_SOURCES[self.mask_source].format(variant=self.variant_name)
        eot = " / ".join(repr(t) for t in self.eot_tokens)
        eos = f"end-of-turn {eot} is trained" + (" (added to each turn: it follows the span)" if self.eos_fix else "")
        if self.open_last:
            eos += "; the template writes none after the last answer, so that answer is trained without one"
        rsn = {"native": f"rendered by the template from {self.reasoning_key!r}",
               "template": f"passed as {self.reasoning_key!r}; the template does not show it in a final answer, so "
                           f"it is trained only where the template renders it",
               "inline": "the template reads no reasoning key: written as <think> tags at the start of the answer",
               "dropped": "the template removes reasoning from assistant turns, so none is trained with it"}[self.reasoning]
        tools = {"rendered": f"tool-call arguments passed as {'objects' if self.arguments == 'object' else 'JSON strings (the template concatenates strings)'}",
                 "dropped": "the template does not render tool calls: records with tool calls are rejected",
                 "unsupported": "the template cannot render tool calls: records with tool calls are rejected"}[self.tool_calls]
        lines = [f"template: {src}", f"mask: {mask}", f"eos: {eos}", f"reasoning: {rsn}", f"tool calls: {tools}"]
        if self.content_blocks:
            lines.append('content: passed as [{"type": "text", "text": ...}] blocks (the template renders no plain strings)')
        return lines


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    """[start, end) of each run of ones."""
    runs, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(mask)))
    return runs


def _trim(tokenizer: Any, ids: list[int], start: int, end: int, eot_ids: set[int]) -> int:
    """Leave whitespace tokens after the end-of-turn token out of a span (the model stops at the token)."""
    j = end
    while j > start and ids[j - 1] not in eot_ids and not tokenizer.decode(ids[j - 1:j]).strip():
        j -= 1
    return j if j > start and ids[j - 1] in eot_ids else end


def _checked(tokenizer: Any, info: TemplateInfo, ids: list[int], runs: list[tuple[int, int]], n_turns: int
             ) -> list[tuple[int, int]] | None:
    """Marker spans, trimmed, when there is one per turn and each ends at an end-of-turn token
    (or right before one, which `eos_fix` then adds); None when they cannot be trusted."""
    if len(runs) != n_turns:
        return None
    out = []
    for start, end in runs:
        end = _trim(tokenizer, ids, start, end, info.eot_ids)
        if ids[end - 1] not in info.eot_ids and not (end < len(ids) and ids[end] in info.eot_ids):
            return None
        out.append((start, end))
    return out


def locate(tokenizer: Any, info: TemplateInfo, messages: list[dict], tools: Any = None
           ) -> tuple[list[int], list[tuple[int, int]], str]:
    """(input_ids, [start, end) token span of each assistant turn, mask source) for one conversation.

    `input_ids` are always the tokens of the own template's render. Raises RowError when the
    template cannot render the record or no source can place its assistant turns.
    """
    try:
        full = render(tokenizer, messages, tools)
    except RenderError as e:
        raise RowError("template_error", f"the chat template cannot render this record ({e})",
                       fix="check the role order and fields this model's template accepts") from None
    names = [c["function"]["name"] for m in messages for c in (m.get("tool_calls") or [])]
    missing = names if info.tool_calls != "rendered" else [n for n in names if n not in full]
    if missing:  # a template that drops calls (always, or in some branch: R1-distill when content is set)
        raise RowError("template_drops_tool_calls", f"the model's chat template does not render the tool call "
                       f"{missing[0]!r}, so this record would be trained without it",
                       fix="train a model whose template supports tool calls")
    n_turns = sum(1 for m in messages if m.get("role") == "assistant")
    if info.mask_source == "markers":
        ids, mask = render_with_mask(tokenizer, messages, tools)
        spans = _checked(tokenizer, info, ids, _runs(mask), n_turns)
        if spans is None:
            raise RowError("mask_mismatch", f"the chat template's {{% generation %}} markers do not give one span per "
                           f"assistant turn ending at its end-of-turn token ({n_turns} turns)",
                           fix="check for empty assistant turns or fix the template's markers")
        return ids, spans, "markers"
    if info.variant is not None:
        try:
            same = render(tokenizer, messages, tools, template=info.variant) == full
        except RenderError:
            same = False
        if same:
            ids, mask = render_with_mask(tokenizer, messages, tools, template=info.variant)
            spans = _checked(tokenizer, info, ids, _runs(mask), n_turns)
            if spans is not None:
                return ids, spans, "trl-variant"
    ids, offsets = tokenize_with_offsets(tokenizer, full)
    spans = assistant_char_spans(lambda msgs, gen: render(tokenizer, msgs, tools, generation_prompt=gen),
                                 messages, full, set(info.eot_tokens))
    if isinstance(spans, str):
        raise RowError("template_mismatch", f"the assistant turns cannot be located in the model's own render: {spans}",
                       fix=_FIX)
    return ids, token_spans(offsets, spans), "incremental"


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read chat template ({e.strerror})") from None


def prepare_template(tokenizer: Any, chat_template_file: str | None = None) -> TemplateInfo:
    """Check the chat template and decide how assistant tokens are found. Never rewrites the model's
    template; `chat_template_file` (the user named it) replaces it and is saved with the tokenizer.
    Raises UsageError with the fix when no source can place the assistant turns of a plain chat."""
    source = "model"
    if chat_template_file:
        tokenizer.chat_template = _read_file(chat_template_file)
        source = f"file:{chat_template_file}"
    template = own_template(tokenizer)
    if template is None:
        raise UsageError(f"the tokenizer has no chat template, so there is no format to train in; {_FIX}")
    variant = None if has_generation_markers(template) else trl_training_variant(template)
    info = TemplateInfo(source=source, mask_source="markers" if has_generation_markers(template) else "incremental",
                        variant_name=variant[0] if variant else None, variant=variant[1] if variant else None)
    info.content_blocks = needs_content_blocks(tokenizer)
    blocks = info.content_blocks
    info.arguments, info.tool_calls = tool_call_mode(tokenizer, blocks)
    info.eot_ids = learn_eot(tokenizer, tool_probe(info.arguments, blocks) if info.tool_calls == "rendered" else None,
                              blocks)
    info.eot_tokens = [tokenizer.convert_ids_to_tokens(i) for i in sorted(info.eot_ids)]
    info.reasoning_key, info.reasoning = reasoning_mode(tokenizer, template, blocks)
    try:
        ids, spans, info.mask_source = locate(tokenizer, info, shape(PROBE, blocks))
    except RowError as e:
        raise UsageError(f"cannot tell the assistant tokens from the prompt in this chat template ({e.message}); "
                         f"refusing to train, because the loss would fall on the wrong tokens. {_FIX}") from None
    for k, (start, end) in enumerate(spans):
        if end > start and ids[end - 1] in info.eot_ids:
            continue
        if end < len(ids) and ids[end] in info.eot_ids:
            info.eos_fix = True  # markers around the content only, or GLM: the next role token ends the turn
            continue
        if k == len(spans) - 1 and k > 0:
            info.open_last = True  # GLM writes nothing after the last answer; its earlier turns teach the stop
            continue
        raise UsageError("the chat template does not end assistant turns with its end-of-turn token next to the "
                         "trained span, so the model would never learn to stop; " + _FIX)
    return info


def build_example(row: dict[str, Any], tokenizer: Any, info: TemplateInfo, *, train_on: str = "all",
                  max_length: int | None = None) -> dict[str, Any]:
    """Tokenize one conversational row; return ``input_ids``, ``labels`` (-100 = not trained) and
    ``mask_source`` (which of the three sources placed its assistant turns).

    Raises RowError (the record goes to the rejects) when the template cannot render it or drops its
    tool calls, nothing would be trained, or it is longer than `max_length` — truncation would cut
    the answer and its end-of-turn token.
    """
    messages = row["messages"]
    ids, spans, used = locate(tokenizer, info, messages, row.get("tools"))
    turns = [m for m in messages if m["role"] == "assistant"]
    keep = [m.get("weight") is None or float(m["weight"]) > 0 for m in turns]
    if train_on == "last":
        keep = [k and i == len(turns) - 1 for i, k in enumerate(keep)]
    labels = [IGNORE] * len(ids)
    for (start, end), k in zip(spans, keep):
        if not k:
            continue
        if ids[end - 1] not in info.eot_ids and end < len(ids) and ids[end] in info.eot_ids:  # stop token just outside
            end += 1
        labels[start:end] = ids[start:end]
    if all(x == IGNORE for x in labels):
        why = "the last assistant turn has weight 0" if train_on == "last" else "every assistant turn has weight 0"
        raise RowError("nothing_to_train", f"no token is trained: {why}", fix="give an assistant turn weight 1")
    if max_length is not None and len(ids) > max_length:
        raise RowError("too_long", f"{len(ids)} tokens, more than max_length {max_length}; truncating would cut the "
                       f"answer and its end-of-turn token", fix=f"raise max_length (to {len(ids)} or more) or split the record")
    return {"input_ids": ids, "labels": labels, "mask_source": used}
