"""Which optional extra a missing module belongs to, so a command that needs one says so in one
line ("needs the [train] extra: pip install 'sft-curator[train]'") instead of a traceback.

The light install (`pip install sft-curator` or `'sft-curator[review]'`) converts, validates,
filters, dedups, mixes, splits, reports and reviews; generation with a local model, reward
models, tokenizers and training need `[train]`; `--engine ray` needs `[ray]`.
"""

from __future__ import annotations

EXTRA_OF = {
    "torch": "train", "transformers": "train", "trl": "train", "peft": "train", "accelerate": "train",
    "datasets": "train", "tokenizers": "train", "matplotlib": "train", "safetensors": "train",
    "textual": "review", "ray": "ray",
}


def missing_extra_message(exc: ImportError, command: str = "this command") -> str | None:
    """A one-line install hint for an ImportError of an optional dependency, else None."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = EXTRA_OF.get(name)
    if extra is None:
        return None
    torch_hint = (" (CPU-only torch first: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
                  if extra == "train" else "")
    return f"{command} needs the [{extra}] extra ({name} is not installed): pip install 'sft-curator[{extra}]'{torch_hint}"
