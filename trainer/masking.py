"""The loss mask: which tokens the model is trained on, built and checked before training.

The rules (the details users get wrong):
- prompt tokens (system, user, tool, the assistant header) are -100;
- every assistant turn is trained — its reasoning, answer, tool calls and the end-of-turn token —
  unless the message has ``weight: 0``, or ``train_on="last"`` and it is not the final turn;
- the end-of-turn token must be inside the mask, or the model never learns to stop (TRL #1623,
  PEFT #1672): a template that leaves it outside is fixed here (the token is added to the turn's
  span) and any other shape is refused;
- a template that cannot mark assistant tokens (no ``{% generation %}``) is replaced by a
  training-compatible one for known families (`trainer.templates`); otherwise we refuse. Nothing
  ever falls back to training on the prompt.

The mask comes from Hugging Face's own ``return_assistant_tokens_mask``; this module only splits
it into turns (each run of ones is one assistant turn, in order) to apply weights and
``train_on``. TRL takes the resulting ``input_ids``/``labels`` as a pre-tokenized dataset and does
the rest (truncation checks, packing, collation). TRL's own ``assistant_only_loss`` would give the
same mask for plain data but cannot honour per-message weights or ``train_on=last``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.errors import RowError, UsageError
from trainer.templates import FAMILIES, detect_family, has_generation_markers

IGNORE = -100
_PROBE_REASONING = "probe-reasoning-3f9"
_PROBE = [{"role": "system", "content": "sys"}, {"role": "user", "content": "question"},
          {"role": "assistant", "content": "answer one"}, {"role": "user", "content": "again"},
          {"role": "assistant", "content": "answer two", "reasoning_content": _PROBE_REASONING}]


@dataclass
class TemplateInfo:
    """What the template check found; printed by `train --preview` and stored in the manifest."""

    source: str  # "model", "file:<path>" or "family:<name>" (a replacement for the model's own)
    eot_token: str
    eot_id: int
    eos_fix: bool  # the template leaves end-of-turn outside its markers; we add it to each span
    reasoning_native: bool  # the template renders reasoning_content itself

    def lines(self) -> list[str]:
        src = {"model": "the model's own template (has {% generation %} markers)"}.get(self.source, self.source)
        if self.source.startswith("family:"):
            src = (f"the model's template has no {{% generation %}} markers; using the built-in "
                   f"{self.source[7:]} training template (saved with the tokenizer)")
        eos = (f"end-of-turn {self.eot_token!r} is trained" + (" (added to each turn: the template left it outside)"
                                                               if self.eos_fix else ""))
        rsn = ("reasoning rendered by the template" if self.reasoning_native
               else "template ignores reasoning_content: reasoning written as <think> tags in the answer")
        return [f"template: {src}", f"eos: {eos}", f"reasoning: {rsn}"]


def _render(tokenizer: Any, messages: list[dict], tools: Any = None) -> dict:
    return tokenizer.apply_chat_template(messages, tools=tools, tokenize=True, return_dict=True,
                                         return_assistant_tokens_mask=True)


def _eot(tokenizer: Any, family: str | None) -> tuple[str, int]:
    token = FAMILIES[family][1] if family else tokenizer.eos_token
    if token is None or tokenizer.convert_tokens_to_ids(token) in (None, tokenizer.unk_token_id):
        raise UsageError(f"cannot find the end-of-turn token {token!r} in the tokenizer")
    return token, tokenizer.convert_tokens_to_ids(token)


def prepare_template(tokenizer: Any, chat_template_file: str | None = None) -> TemplateInfo:
    """Make `tokenizer.chat_template` a template that marks assistant tokens, and check it.

    Changes the tokenizer in place (the template used is saved with it, so inference sees the same
    format). Raises UsageError with the fix when no safe template can be found.
    """
    vocab = tokenizer.get_vocab()
    own = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else None
    family = detect_family(own, vocab)
    if chat_template_file:
        try:
            tokenizer.chat_template = Path(chat_template_file).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"{chat_template_file}: cannot read chat template ({e.strerror})") from None
        source = f"file:{chat_template_file}"
        if not has_generation_markers(tokenizer.chat_template):
            raise UsageError(f"{chat_template_file} has no {{% generation %}} markers, so assistant tokens cannot be "
                             f"told from the prompt; wrap each assistant reply (and its end-of-turn token) in "
                             f"{{% generation %}}...{{% endgeneration %}}")
    elif has_generation_markers(own):
        source = "model"
    elif family is not None:
        tokenizer.chat_template = FAMILIES[family][0]
        source = f"family:{family}"
    else:
        raise UsageError("the model's chat template cannot mark assistant tokens (no {% generation %} markers) and "
                         "its family is not one we know (ChatML/Qwen, Llama 3); refusing to train, because the loss "
                         "would fall on the prompt too. Pass --chat-template FILE with a template that wraps each "
                         "assistant reply and its end-of-turn token in {% generation %}...{% endgeneration %}")
    token, eot_id = _eot(tokenizer, family)
    enc = _render(tokenizer, _PROBE)
    ids, mask = enc["input_ids"], enc["assistant_masks"]
    runs = _runs(mask)
    if len(runs) != 2:
        raise UsageError(f"the chat template marks {len(runs)} assistant spans in a conversation with 2 assistant "
                         f"turns; fix its {{% generation %}} markers or pass --chat-template FILE")
    eos_fix = False
    for start, end in runs:
        if ids[end - 1] == eot_id:
            continue
        if end < len(ids) and ids[end] == eot_id:
            eos_fix = True
            continue
        raise UsageError(f"the chat template does not end assistant turns with {token!r} next to the trained span, so "
                         f"the model would never learn to stop; put {token!r} inside {{% generation %}}")
    reasoning_native = _PROBE_REASONING in tokenizer.decode(ids)
    return TemplateInfo(source, token, eot_id, eos_fix, reasoning_native)


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


def build_example(row: dict[str, Any], tokenizer: Any, info: TemplateInfo, *, train_on: str = "all",
                  max_length: int | None = None) -> dict[str, list[int]]:
    """Tokenize one conversational row; return ``input_ids`` and ``labels`` (-100 = not trained).

    Raises RowError (the record goes to the rejects) when nothing would be trained or the record
    is longer than `max_length` — truncation would cut the answer and its end-of-turn token.
    """
    messages = row["messages"]
    enc = _render(tokenizer, messages, row.get("tools"))
    ids, mask = list(enc["input_ids"]), list(enc["assistant_masks"])
    runs = _runs(mask)
    turns = [m for m in messages if m["role"] == "assistant"]
    if len(runs) != len(turns):
        raise RowError("mask_mismatch", f"the chat template marked {len(runs)} assistant spans for {len(turns)} "
                       f"assistant turns", fix="check for empty assistant turns or a template that drops turns")
    keep = [m.get("weight") is None or float(m["weight"]) > 0 for m in turns]
    if train_on == "last":
        keep = [k and i == len(turns) - 1 for i, k in enumerate(keep)]
    labels = [IGNORE] * len(ids)
    for (start, end), k in zip(runs, keep):
        if not k:
            continue
        if info.eos_fix and ids[end - 1] != info.eot_id and end < len(ids) and ids[end] == info.eot_id:
            end += 1
        labels[start:end] = ids[start:end]
    if all(x == IGNORE for x in labels):
        why = "the last assistant turn has weight 0" if train_on == "last" else "every assistant turn has weight 0"
        raise RowError("nothing_to_train", f"no token is trained: {why}", fix="give an assistant turn weight 1")
    if max_length is not None and len(ids) > max_length:
        raise RowError("too_long", f"{len(ids)} tokens, more than max_length {max_length}; truncating would cut the "
                       f"answer and its end-of-turn token", fix=f"raise max_length (to {len(ids)} or more) or split the record")
    return {"input_ids": ids, "labels": labels}
