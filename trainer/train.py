"""Build and run TRL's SFTTrainer from a `TrainConfig`; write every artefact to OUT/.

This module only wires things: data through `trainer.data` + `trainer.masking` (pre-tokenized
``input_ids``/``labels``, which SFTTrainer accepts and then truncates, packs and collates itself),
the adapter through PEFT's `LoraConfig`, early stopping and best-checkpoint through transformers.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
import time
import warnings
from pathlib import Path
from typing import Any

from curator.errors import UsageError
from curator.io import ReadStats, read_records
from curator.manifest import build_manifest, write_manifest
from curator.rejects import RejectSink
from trainer.config import TrainConfig

CHECKPOINTS = "checkpoints"


def latest_checkpoint(out: str | Path) -> Path | None:
    d = Path(out) / CHECKPOINTS
    ckpts = sorted(d.glob("checkpoint-*"), key=lambda p: int(p.name.rsplit("-", 1)[1])) if d.is_dir() else []
    return ckpts[-1] if ckpts else None


def load_tokenizer(model: str) -> Any:
    from transformers import AutoTokenizer

    from curator.hub import check_model

    check_model(model)  # fail fast, naming HF_ENDPOINT / ModelScope / local folders / HF_HUB_OFFLINE
    try:
        tok = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot load a tokenizer from {model!r}: {str(e).splitlines()[0]} — pass a local model "
                         f"folder (this machine has no model hub)") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def hardware(cfg: TrainConfig) -> dict[str, Any]:
    """Device and precision choices: bf16 where the GPU has it, fp32 on CPU; checkpointing on GPU only."""
    import torch

    cuda = torch.cuda.is_available()
    precision = cfg.precision
    if precision == "auto":
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    if precision in ("bf16", "fp16") and not cuda:
        raise UsageError(f"precision {precision} needs a GPU; use precision=fp32 (or auto) on CPU")
    ckpt = cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else cuda
    if cfg.method == "qlora":
        import importlib.util

        if not cuda or importlib.util.find_spec("bitsandbytes") is None:
            raise UsageError("method qlora needs a CUDA GPU and the bitsandbytes package; use method=lora here")
    return {"cuda": cuda, "precision": precision, "gradient_checkpointing": ckpt}


def load_model(cfg: TrainConfig, hw: dict[str, Any]) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if hw["cuda"] and cfg.method != "full":  # LoRA: frozen base in half precision, adapters trained under autocast
        kwargs["dtype"] = torch.bfloat16 if hw["precision"] == "bf16" else torch.float16
    if cfg.method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                           bnb_4bit_use_double_quant=True,
                                                           bnb_4bit_compute_dtype=kwargs["dtype"])
    try:
        model = AutoModelForCausalLM.from_pretrained(cfg.model, **kwargs)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot load model {cfg.model!r}: {str(e).splitlines()[0]}") from None
    if cfg.init_adapter:
        from peft import PeftModel

        if not (Path(cfg.init_adapter) / "adapter_config.json").exists():
            raise UsageError(f"{cfg.init_adapter}: no adapter_config.json — init_adapter must be the OUT folder of a LoRA run")
        model = PeftModel.from_pretrained(model, cfg.init_adapter, is_trainable=True)
    return model


def peft_config(cfg: TrainConfig) -> Any:
    if cfg.method == "full" or cfg.init_adapter:
        return None
    from peft import LoraConfig

    target = "all-linear" if cfg.lora_target == "all-linear" else [t.strip() for t in cfg.lora_target.split(",") if t.strip()]
    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, target_modules=target,
                      bias="none", task_type="CAUSAL_LM")


def sft_config(cfg: TrainConfig, hw: dict[str, Any], has_eval: bool, **extra: Any) -> Any:
    """SFTConfig with our defaults. `extra` overrides (the bench uses it to match settings)."""
    from trl import SFTConfig

    steps = {"eval_strategy": "steps" if has_eval else "no", "eval_steps": cfg.eval_steps,
             "save_strategy": "steps", "save_steps": cfg.eval_steps}
    args = dict(
        output_dir=str(Path(cfg.out) / CHECKPOINTS), num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate, lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_ratio, weight_decay=cfg.weight_decay, max_grad_norm=cfg.max_grad_norm,
        bf16=hw["precision"] == "bf16", fp16=hw["precision"] == "fp16", use_cpu=not hw["cuda"],
        logging_steps=cfg.logging_steps, logging_first_step=True,
        save_total_limit=cfg.save_total_limit, load_best_model_at_end=has_eval, metric_for_best_model="eval_loss",
        greater_is_better=False, report_to="none", seed=cfg.seed, data_seed=cfg.seed, max_length=cfg.max_length,
        packing=cfg.packing, packing_strategy="bfd", disable_tqdm=True, **steps,
    )
    # transformers 5 renamed gradient_checkpointing; SFTConfig defaults the old name to True, so set the new one.
    names = {f.name for f in dataclasses.fields(SFTConfig)}
    args["activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"] = \
        hw["gradient_checkpointing"]
    args.update(extra)
    return SFTConfig(**args)


def build_datasets(cfg: TrainConfig, tokenizer: Any, info: Any, rejects: RejectSink, stats: ReadStats) -> tuple[Any, Any, dict]:
    """Read, render and mask every record; split off the eval set. Returns (train, eval|None, counts)."""
    from datasets import Dataset

    from trainer.data import eval_indices, tokenize_records

    def examples(paths: list[str]) -> list[tuple[str, dict]]:
        convs = (c for p in paths for c in read_records(p, rejects=rejects, stats=stats))
        return [(c.id, ex) for c, ex in tokenize_records(convs, tokenizer, info, reasoning=cfg.reasoning,
                                                          train_on=cfg.train_on, max_length=cfg.max_length,
                                                          rejects=rejects)]

    for p in [*cfg.data, *([cfg.eval] if cfg.eval else [])]:
        if not Path(p).exists():
            raise UsageError(f"{p}: no such file")
    train = examples(cfg.data)
    if cfg.eval:
        ev = examples([cfg.eval])
    else:
        held = eval_indices([k for k, _ in train], cfg.eval_ratio, cfg.seed)
        ev = [t for i, t in enumerate(train) if i in held]
        train = [t for i, t in enumerate(train) if i not in held]
    if not train:
        raise UsageError("no trainable record in the data (see the rejects file for why)")

    def to_ds(rows: list[tuple[str, dict]]) -> Any:
        return Dataset.from_dict({"input_ids": [ex["input_ids"] for _, ex in rows],
                                  "labels": [ex["labels"] for _, ex in rows]})

    counts = {"train": len(train), "eval": len(ev),
              "trained_tokens": sum(sum(1 for x in ex["labels"] if x != -100) for _, ex in train),
              "tokens": sum(len(ex["input_ids"]) for _, ex in train),
              "mask_sources": dict(Counter(ex["mask_source"] for _, ex in train + ev))}
    return to_ds(train), (to_ds(ev) if ev else None), counts


def run(cfg: TrainConfig, argv_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train; return a summary. Raises UsageError for anything the user can fix."""
    import transformers
    from transformers import EarlyStoppingCallback
    from trl import SFTTrainer

    from trainer.callbacks import MetricsLog, OverfitWatch
    from trainer.masking import prepare_template
    from trainer.plots import plot_loss

    t0 = time.perf_counter()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # "Loading weights" bars (transformers 5)
    warnings.filterwarnings("ignore", category=FutureWarning)  # deprecation notices inside transformers/TRL
    import datasets

    datasets.disable_progress_bars()
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()  # "Loading weights"/"Writing model shards" bars would bury the summary
    cfg = cfg.resolved()
    if not cfg.data:
        raise UsageError("no training data given")
    if not cfg.out:
        raise UsageError("no output folder: pass -o OUT")
    if Path(cfg.model).is_dir():  # absolute, so the adapter's base path still resolves from elsewhere
        cfg.model = str(Path(cfg.model).resolve())
    out = Path(cfg.out)
    resume = None
    if cfg.resume_from:
        resume = latest_checkpoint(cfg.resume_from)
        if resume is None:
            raise UsageError(f"{cfg.resume_from}: no checkpoint to resume from (looked in {cfg.resume_from}/{CHECKPOINTS})")
    hw = hardware(cfg)
    tokenizer = load_tokenizer(cfg.model)
    info = prepare_template(tokenizer, cfg.chat_template)
    out.mkdir(parents=True, exist_ok=True)
    stats = ReadStats()
    rejects = RejectSink(out / "rejects.jsonl", stage="train")
    try:
        train_ds, eval_ds, counts = build_datasets(cfg, tokenizer, info, rejects, stats)
    except BaseException:
        rejects.abort()
        raise
    rejects.close()
    rate = len(rejects) / stats.rows if stats.rows else 0.0
    counts.update({"in": stats.rows, "rejected": len(rejects), "rejected_by_reason": dict(sorted(rejects.counts.items()))})
    counts["balanced"] = counts["in"] == counts["train"] + counts["eval"] + counts["rejected"]
    if cfg.max_error_rate is not None and rate > cfg.max_error_rate:
        return {"exit_code": 1, "counts": counts, "error": f"rejected {rate:.1%} of records, above max_error_rate "
                f"{cfg.max_error_rate:.1%} (see {out / 'rejects.jsonl'})"}

    model = load_model(cfg, hw)
    has_eval = eval_ds is not None
    metrics = MetricsLog(out / "metrics.jsonl", resume_step=int(resume.name.rsplit("-", 1)[1]) if resume else None)
    callbacks = [metrics, OverfitWatch(metrics)]
    if cfg.eval_generate_every > 0:  # task metrics beside the loss (trainer/task_metrics.py)
        from trainer.task_metrics import TaskMetrics, held_out

        source = cfg.eval_generate_data or cfg.eval
        if not source:
            raise UsageError("eval_generate_every needs held-out records: eval=FILE or eval_generate_data=FILE")
        callbacks.append(TaskMetrics(held_out(source, cfg.eval_generate_n, cfg.seed), cfg.eval_generate_every,
                                     metrics, out))
    if has_eval and cfg.patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.patience))
    trainer = SFTTrainer(model=model, args=sft_config(cfg, hw, has_eval), train_dataset=train_ds,
                         eval_dataset=eval_ds, processing_class=tokenizer, peft_config=peft_config(cfg),
                         callbacks=callbacks)
    from transformers.trainer_callback import PrinterCallback

    from trainer.progress import TrainProgress

    trainer.remove_callback(PrinterCallback)  # raw {'loss': …} dicts; TrainProgress prints step/total, loss, ETA
    trainer.add_callback(TrainProgress())
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    state = trainer.state
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    (out / "train_config.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
    plot_loss(out / "metrics.jsonl", out / "loss.png", title=f"{Path(cfg.model).name} · {cfg.method}")
    planned = state.max_steps
    summary = {
        "exit_code": 0, "out": str(out), "global_step": state.global_step, "max_steps": planned,
        "stopped_early": has_eval and state.global_step < planned,
        "best_checkpoint": state.best_model_checkpoint, "best_eval_loss": state.best_metric,
        "train_loss": result.training_loss, "counts": counts, "template": info.lines(),
        "hardware": hw, "resumed_from": str(resume) if resume else None,
    }
    manifest = build_manifest(command="train", params=argv_params or {}, inputs=[*cfg.data, *([cfg.eval] if cfg.eval else [])],
                              outputs={"model": str(out), "rejects": str(out / "rejects.jsonl")}, counts=counts,
                              seconds=time.perf_counter() - t0,
                              extra={"formats_detected": stats.formats, "summary": {k: v for k, v in summary.items()
                                                                                     if k not in ("counts",)}})
    write_manifest(out / "train.manifest.json", manifest)
    summary["manifest"] = str(out / "train.manifest.json")
    return summary


def summary_lines(s: dict[str, Any]) -> list[str]:
    c = s["counts"]
    lines = [f"train: {c['in']} in, {c['train']} train, {c['eval']} eval, {c['rejected']} rejected"]
    for reason, n in c.get("rejected_by_reason", {}).items():
        lines.append(f"  {reason}: {n}")
    if "error" in s:
        lines.append(s["error"])
        return lines
    lines += s["template"]
    if c.get("mask_sources"):
        lines.append("mask source per record: " + ", ".join(f"{k} {v}" for k, v in sorted(c["mask_sources"].items())))
    lines.append(f"steps: {s['global_step']}/{s['max_steps']}" + ("  (stopped early: eval loss stopped improving)"
                                                                if s["stopped_early"] else ""))
    if s["best_eval_loss"] is not None:
        lines.append(f"best eval loss: {s['best_eval_loss']:.4f} at {s['best_checkpoint']}")
    lines.append(f"wrote {s['out']}/ (adapter or model, tokenizer, train_config.yaml, metrics.jsonl, loss.png)")
    return lines


def read_summary(out: str | Path) -> dict[str, Any]:
    return json.loads((Path(out) / "train.manifest.json").read_text(encoding="utf-8"))
