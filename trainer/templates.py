"""The model's own chat template, rendered exactly, and the training variants TRL ships for it.

Training must see the text the model sees at inference: ``tokenizer.apply_chat_template(messages,
tools=..., tokenize=False)`` with the model's own template, byte for byte. This module renders
with that template (or another one, only when the caller names it) and finds the training variant
of a template: TRL's wheel ships ``trl/chat_templates/<name>.jinja`` (a released template, copied
byte for byte) next to ``<name>_training.jinja`` (the same template with ``{% generation %}``
markers), and TRL picks the variant by exact equality of the template text with ``<name>.jinja``
(`trl.chat_template_utils.get_training_chat_template`). We do the same, reading the files
directly (no torch import), and the caller still checks that the variant renders the identical
text for each record before trusting its mask: some variants change the text on purpose (Qwen3's
keeps earlier turns' thinking, DeepSeek-R1's keeps the reasoning Qwen's drops).

No hand-written replacement of a model's template exists any more: a model is never silently
trained on a format it does not see at inference.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

GENERATION_RE = re.compile(r"{%-?\s*generation\s*-?%}")


class RenderError(Exception):
    """The template raised while rendering (unsupported role order, tools it cannot take...)."""


def has_generation_markers(template: str | None) -> bool:
    return bool(template) and bool(GENERATION_RE.search(template))


def own_template(tokenizer: Any) -> str | None:
    """The tokenizer's template text; for named variants (a dict), the ``default`` one as TRL does."""
    t = tokenizer.chat_template
    if isinstance(t, dict):
        t = t.get("default")
    return t if isinstance(t, str) and t else None


def trl_template_dir() -> Path | None:
    """``trl/chat_templates`` inside the installed TRL wheel, or None without TRL."""
    spec = importlib.util.find_spec("trl")
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(next(iter(spec.submodule_search_locations))) / "chat_templates"
    return d if d.is_dir() else None


@lru_cache(maxsize=1)
def trl_training_pairs() -> tuple[tuple[str, str, str], ...]:
    """(base file name, base text, training variant text) for each ``X.jinja`` with an ``X_training.jinja``."""
    d = trl_template_dir()
    if d is None:
        return ()
    pairs = []
    for variant in sorted(d.glob("*_training.jinja")):
        base = d / (variant.name[: -len("_training.jinja")] + ".jinja")
        if base.exists():
            pairs.append((base.name, base.read_text(encoding="utf-8"), variant.read_text(encoding="utf-8")))
    return tuple(pairs)


def trl_training_variant(template: str | None) -> tuple[str, str] | None:
    """(variant file name, variant text) when `template` is byte-identical to a TRL base template."""
    if not template:
        return None
    for base_name, base_text, variant_text in trl_training_pairs():
        if template == base_text:
            return base_name.replace(".jinja", "_training.jinja"), variant_text
    return None


def render(tokenizer: Any, messages: list[dict], tools: Any = None, *, template: str | None = None,
           generation_prompt: bool = False) -> str:
    """The text `apply_chat_template` renders (with `template`, else the tokenizer's own)."""
    try:
        return tokenizer.apply_chat_template(messages, tools=tools, chat_template=template, tokenize=False,
                                             add_generation_prompt=generation_prompt)
    except Exception as e:  # jinja's TemplateError, raise_exception(), a TypeError inside the template...
        raise RenderError(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None


def render_with_mask(tokenizer: Any, messages: list[dict], tools: Any = None, *,
                     template: str | None = None) -> tuple[list[int], list[int]]:
    """(input_ids, assistant mask) from a template's own ``{% generation %}`` markers."""
    try:
        enc = tokenizer.apply_chat_template(messages, tools=tools, chat_template=template, tokenize=True,
                                            return_dict=True, return_assistant_tokens_mask=True)
    except Exception as e:
        raise RenderError(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    return list(enc["input_ids"]), list(enc["assistant_masks"])


def special_ids(tokenizer: Any) -> set[int]:
    """Ids of added/special tokens: the tokens a template can end a turn with."""
    ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    ids.update(getattr(tokenizer, "added_tokens_decoder", {}).keys())
    return ids
