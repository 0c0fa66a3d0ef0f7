"""`train merge OUT -o MERGED`: fold a LoRA adapter into its base model and save a plain model.

The merged folder loads with `AutoModelForCausalLM` alone (no PEFT), e.g. for vLLM or export.
Its generation config stops at the end-of-turn token the training template used.
"""

from __future__ import annotations

import json
from pathlib import Path

from curator.errors import UsageError


def adapter_base(out: str | Path) -> str:
    cfg = Path(out) / "adapter_config.json"
    if not cfg.exists():
        raise UsageError(f"{out}: no adapter_config.json — merge needs the OUT folder of a LoRA run "
                         f"(a full fine-tune is already a plain model)")
    base = json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base:
        raise UsageError(f"{cfg}: base_model_name_or_path is empty; pass --base PATH")
    return base


def set_stop_tokens(model, tokenizer) -> None:
    """Stop at the end-of-turn token as well as EOS (a base model's EOS is often a different token)."""
    from trainer.masking import prepare_template

    ids = {tokenizer.eos_token_id}
    try:  # the end-of-turn token(s) the saved template ends assistant turns with
        ids |= prepare_template(tokenizer).eot_ids
    except UsageError:
        pass  # no usable template: stop at EOS only
    ids.discard(None)
    model.generation_config.eos_token_id = sorted(ids) if len(ids) > 1 else next(iter(ids))
    model.generation_config.pad_token_id = tokenizer.pad_token_id


def load_trained(out: str | Path, base: str | None = None):
    """(model, tokenizer) from a train OUT folder: base + adapter for LoRA, the model itself for full."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = Path(out)
    if not out.is_dir():
        raise UsageError(f"{out}: no such folder")
    tokenizer = AutoTokenizer.from_pretrained(out)
    if (out / "adapter_config.json").exists():
        from peft import PeftModel

        base_path = base or adapter_base(out)
        try:
            model = AutoModelForCausalLM.from_pretrained(base_path)
        except OSError as e:
            raise UsageError(f"cannot load the base model {base_path!r}: {str(e).splitlines()[0]}; pass --base PATH") from None
        model = PeftModel.from_pretrained(model, out)
    else:
        model = AutoModelForCausalLM.from_pretrained(out)
    set_stop_tokens(model, tokenizer)
    return model, tokenizer


def merge(out: str | Path, merged: str | Path, base: str | None = None) -> Path:
    from peft import PeftModel

    adapter_base(out)  # clear message when OUT is not a LoRA run
    model, tokenizer = load_trained(out, base)
    assert isinstance(model, PeftModel)
    plain = model.merge_and_unload()
    set_stop_tokens(plain, tokenizer)
    merged = Path(merged)
    merged.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(merged)
    tokenizer.save_pretrained(merged)
    return merged
