"""The training configuration: one dataclass, whose attribute docstrings become ``--help``.

Values come from, in rising priority: the defaults below, ``--config train.yaml`` (read with
``yaml.safe_load``), ``--flag value`` options, and trailing ``key=value`` overrides. The config as
used (every default resolved) is written to ``OUT/train_config.yaml`` so a run can be repeated or
resumed exactly. Defaults follow common practice for LoRA SFT; docs/train.md says why for each.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from curator.config_check import check_config
from curator.errors import UsageError


@dataclass
class TrainConfig:
    data: list[str] = dataclasses.field(default_factory=list)
    """Training data files (any format the curator reads; shards are concatenated)."""
    model: str = ""
    """Base model: a local folder or a hub id already in the local cache (no downloads here)."""
    out: str = ""
    """Output folder: adapter (or model), tokenizer, train_config.yaml, metrics.jsonl, loss.png."""
    eval: str | None = None
    """Held-out evaluation file; when absent, --eval-ratio of DATA is held out."""
    eval_ratio: float = 0.05
    """Share of DATA held out for evaluation when --eval is not given (0 = no evaluation)."""
    method: Literal["lora", "full", "qlora"] = "lora"
    """lora | full | qlora (qlora needs bitsandbytes and a CUDA GPU)."""
    lora_r: int = 64
    """LoRA rank."""
    lora_alpha: int = 64
    """LoRA alpha (r = alpha keeps the update scale at 1)."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA path."""
    lora_target: str = "all-linear"
    """LoRA target modules: all-linear, or a comma-separated list of module names."""
    learning_rate: float | None = None
    """Peak learning rate; default 2e-4 for LoRA/QLoRA, 1e-5 for full fine-tuning."""
    epochs: float = 3.0
    """Number of passes over the training data."""
    max_steps: int = -1
    """Stop after this many optimizer steps (-1 = run all epochs)."""
    batch_size: int = 4
    """Examples per device per step."""
    grad_accum: int = 4
    """Gradient accumulation steps (effective batch = batch_size x grad_accum x devices)."""
    warmup_ratio: float = 0.03
    """Share of steps with a linear learning-rate warm-up."""
    scheduler: str = "cosine"
    """Learning-rate schedule after warm-up."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""
    max_length: int = 2048
    """Longest example in tokens; longer examples are rejected (not silently truncated)."""
    packing: bool = False
    """Pack examples into max_length rows with TRL's best-fit-decreasing packing (no cross-attention between examples)."""
    train_on: Literal["all", "last"] = "all"
    """all = every assistant turn is trained; last = only the final assistant turn."""
    reasoning: Literal["keep", "drop"] = "keep"
    """keep = train on the reasoning, written where the model's template writes it, plus the answer; drop = answer only."""
    chat_template: str | None = None
    """A Jinja chat template file that replaces the model's own (and is saved with the tokenizer); by default the model's own is used, byte for byte."""
    eval_steps: int = 50
    """Evaluate (and save a checkpoint) every N optimizer steps."""
    patience: int = 3
    """Stop when eval loss has not improved for this many evaluations (0 = never stop early)."""
    logging_steps: int = 10
    """Log train loss every N steps."""
    save_total_limit: int = 2
    """Checkpoints kept on disk (the best one is always kept)."""
    seed: int = 42
    """Seed for the eval split, LoRA initialisation and data order."""
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    """auto (bf16 where the GPU has it, fp32 on CPU) | bf16 | fp16 | fp32."""
    gradient_checkpointing: bool | None = None
    """Trade compute for memory; default on with a GPU, off on CPU."""
    resume_from: str | None = None
    """Continue an interrupted run from the latest checkpoint in this OUT folder."""
    init_adapter: str | None = None
    """Start from a trained LoRA adapter (incremental SFT) instead of a fresh one."""
    eval_generate_every: int = 0
    """Every N steps, answer a few held-out prompts and log task metrics (accuracy, F1, ROUGE-L) in metrics.jsonl; 0 = off."""
    eval_generate_data: str | None = None
    """Held-out records (with reference answers) for eval_generate_every (default: the --eval file)."""
    eval_generate_n: int = 16
    """How many held-out records eval_generate_every answers each time."""
    max_error_rate: float | None = None
    """Fail (exit 1) when more than this share of input records is rejected."""
    practice: bool = True
    """Print the practice checks (data and config vs the field's rules of thumb) before and after training."""
    practice_config: str | None = None
    """YAML overriding the practice-check thresholds (docs/practice.md)."""
    task: str | None = None
    """Task type for the practice checks: copywriting, reference_qa, classification, extraction, general (default: detected)."""

    def resolved(self) -> "TrainConfig":
        """A copy with method-dependent defaults filled in and values checked."""
        c = dataclasses.replace(self)
        check_config(c)  # the Literal choices (method, train_on, reasoning, precision)
        if c.learning_rate is None:
            c.learning_rate = 1e-5 if c.method == "full" else 2e-4
        if not 0 <= c.eval_ratio < 1:
            raise UsageError(f"eval_ratio must be in [0, 1), not {c.eval_ratio}")
        for key in ("batch_size", "grad_accum", "max_length", "eval_steps", "logging_steps"):
            if getattr(c, key) < 1:
                raise UsageError(f"{key} must be at least 1, not {getattr(c, key)}")
        return c

    def to_yaml(self) -> str:
        return yaml.safe_dump(dataclasses.asdict(self), sort_keys=False, allow_unicode=True)


def field_help() -> dict[str, str]:
    """Attribute docstrings of TrainConfig (the string literal under each field), for --help."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(TrainConfig)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    helps: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr) \
                and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            helps[node.target.id] = nxt.value.value
    return helps


def _field_types() -> dict[str, str]:
    return {f.name: str(f.type) for f in fields(TrainConfig)}


def coerce(key: str, value: Any) -> Any:
    """Turn a CLI or YAML value into the field's type; a wrong type is a usage error naming the key."""
    types = _field_types()
    if key not in types:
        close = [k for k in types if k.startswith(key[:3])]
        hint = f" — did you mean {close[0]}?" if close else ""
        raise UsageError(f"unknown config key {key!r}{hint}")
    t = types[key]
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null") and "None" in t):
        return None
    try:
        if t.startswith("list"):
            return [str(v) for v in value] if isinstance(value, list) else [s for s in str(value).split(",") if s]
        if t.startswith("bool"):
            if isinstance(value, bool):
                return value
            s = str(value).lower()
            if s in ("1", "true", "yes", "on"):
                return True
            if s in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if t.startswith("int"):
            return int(value)
        if t.startswith("float"):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise UsageError(f"config key {key!r} expects {t}, got {value!r}") from None


def load_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{p}: cannot read config ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: invalid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{p}: the config must be a mapping of key: value")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def parse_overrides(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().lstrip("-").replace("-", "_")] = v
    return out


def build_config(*layers: dict[str, Any]) -> TrainConfig:
    """Defaults, then each layer in order (later wins). Unknown keys are usage errors."""
    values: dict[str, Any] = {}
    for layer in layers:
        for k, v in layer.items():
            values[k] = coerce(k, v)
    return TrainConfig(**values)
