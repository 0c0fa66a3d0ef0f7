"""Tokens/s and share of non-padding tokens: `train`'s wrapper vs plain TRL SFTTrainer, with and
without packing, on the tiny model (CPU). Same data, same SFTConfig, same LoRA config.

    PYTHONPATH=. python bench/train_bench.py [--steps 20] [--repeat 8] [--data FILE ...]

The wrapper pre-tokenizes with its own masks (weights, train-on-last, EOS check) and hands TRL
``input_ids``/``labels``; plain TRL tokenizes ``messages`` itself with ``assistant_only_loss``.
Both then run the identical TRL loop, so the goal is a ratio >= 0.95 (the wrapper costs nothing).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = [ROOT / "sample_data" / n for n in ("alpaca.json", "sharegpt.json", "messages.jsonl",
                                                    "reasoning_ark.jsonl", "reasoning_r1.jsonl")]


class CountingCollator:
    """Wraps TRL's collator to count real vs. total token slots in every batch."""

    def __init__(self, inner):
        self.inner, self.real, self.total = inner, 0, 0

    def __call__(self, examples):
        batch = self.inner(examples)
        n = batch["input_ids"].numel()
        self.total += n
        self.real += int(batch["attention_mask"].sum()) if "attention_mask" in batch else n
        return batch


def run_one(kind: str, packing: bool, model_path: str, data: list[str], steps: int, repeat: int, out: str) -> dict:
    import transformers
    from datasets import Dataset, concatenate_datasets
    from trl import SFTConfig, SFTTrainer

    from curator.io import ReadStats, read_records
    from curator.rejects import RejectSink
    from trainer.config import TrainConfig
    from trainer.chat_rows import to_messages
    from trainer.masking import prepare_template
    from trainer.train import build_datasets, hardware, load_model, load_tokenizer, peft_config, sft_config

    transformers.set_seed(0)
    cfg = TrainConfig(data=data, model=model_path, out=out, eval_ratio=0, max_steps=steps, batch_size=8, grad_accum=1,
                      max_length=512, packing=packing, logging_steps=steps).resolved()
    hw = hardware(cfg)
    extra = dict(save_strategy="no", eval_strategy="no", load_best_model_at_end=False)
    t0 = time.perf_counter()
    tok = load_tokenizer(model_path)
    if kind == "train":
        info = prepare_template(tok)
        ds, _, _ = build_datasets(cfg, tok, info, RejectSink(None), ReadStats())
        args = sft_config(cfg, hw, False, **extra)
    else:  # what a user would write with TRL alone
        rows = [to_messages(c) for p in data for c in read_records(p, rejects=RejectSink(None))]
        ds = Dataset.from_list([{"messages": r["messages"]} for r in rows])
        args = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                         learning_rate=cfg.learning_rate, lr_scheduler_type="cosine", warmup_steps=0.03, weight_decay=0.0,
                         max_grad_norm=1.0, bf16=False, use_cpu=True, activation_checkpointing=False, logging_steps=steps,
                         report_to="none", seed=cfg.seed, data_seed=cfg.seed, max_length=512, packing=packing,
                         packing_strategy="bfd", assistant_only_loss=True, disable_tqdm=True, **extra)
    ds = concatenate_datasets([ds] * repeat)
    model = load_model(cfg, hw)
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=peft_config(cfg))
    prep = time.perf_counter() - t0
    counter = CountingCollator(trainer.data_collator)
    trainer.data_collator = counter
    t1 = time.perf_counter()
    trainer.train()
    secs = time.perf_counter() - t1
    return {"kind": kind, "packing": packing, "prep_s": prep, "train_s": secs, "tok_s": counter.real / secs,
            "real_share": counter.real / counter.total, "trained_on": counter.real}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=8, help="repeat the data this many times (more batches)")
    ap.add_argument("--data", nargs="*", default=[str(p) for p in DEFAULT_DATA])
    a = ap.parse_args()
    import datasets
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    from trainer.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        model = str(build_tiny_model(Path(tmp) / "tiny"))
        results = []
        for packing in (False, True):
            for kind in ("trl", "train"):
                results.append(run_one(kind, packing, model, a.data, a.steps, a.repeat, str(Path(tmp) / f"o-{kind}-{packing}")))
    print(f"tiny Qwen2 (hidden 64, 2 layers), LoRA r=64 all-linear, batch 8, max_length 512, {a.steps} steps, "
          f"CPU threads {torch.get_num_threads()}")
    print(f"{'setup':<28}{'tokens/s':>10}{'non-pad share':>15}{'prep s':>9}{'train s':>9}")
    for r in results:
        name = f"{'plain TRL' if r['kind'] == 'trl' else 'train (wrapper)'}{' + packing' if r['packing'] else ''}"
        print(f"{name:<28}{r['tok_s']:>10.0f}{r['real_share']:>15.1%}{r['prep_s']:>9.2f}{r['train_s']:>9.2f}")
    for packing in (False, True):
        trl_r, ours = [r for r in results if r["packing"] == packing]
        print(f"ratio wrapper/TRL tokens/s {'with' if packing else 'without'} packing: {ours['tok_s'] / trl_r['tok_s']:.2f}")


if __name__ == "__main__":
    main()
