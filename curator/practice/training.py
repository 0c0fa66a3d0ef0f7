"""Training-config checks (`train --check`, the start of `train`) and after-training checks.

Pure functions over `TrainFacts`, a plain summary of the config and of the data as the trainer
will see it (token lengths from the real tokenizer, the eval overlap); `trainer.practice_checks`
collects the facts, so nothing here imports torch or transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.practice.checks import Check, make
from curator.practice.config import PracticeConfig
from curator.practice.rules import TASK_NAMES

# metric names `train eval` may report, most telling first (deterministic-task metrics)
_METRICS = ("accuracy", "macro_f1", "micro_f1", "f1", "field_f1", "exact_match", "answer_match", "rouge_l", "score")


@dataclass
class TrainFacts:
    method: str
    learning_rate: float
    epochs: float
    max_steps: int
    batch_size: int
    grad_accum: int
    lora_r: int
    lora_alpha: int
    eval_file: str | None
    eval_ratio: float
    packing: bool
    max_length: int
    n_train: int = 0
    task: str = "general"
    complexity: str = "simple"
    complexity_why: str = ""
    model_params_b: float | None = None
    multi_turn_share: float = 0.0
    median_tokens: float = 0.0
    p99_tokens: float = 0.0
    lengths_n: int = 0
    lengths_over: int = 0
    eval_overlap: Any = None  # coverage.Coverage of eval prompts against train, or None


def _lora(f: TrainFacts) -> bool:
    return f.method in ("lora", "qlora")


def lora_lr(f: TrainFacts, cfg: PracticeConfig) -> Check:
    if not _lora(f):
        return make("lora_lr", cfg, "skip", f"method {f.method}: the rule is for LoRA", f"方法 {f.method}：此规则针对 LoRA")
    t = cfg.t("lora_lr")
    ok = t["min"] <= f.learning_rate <= t["max"]
    return make("lora_lr", cfg, "ok" if ok else "warn", f"learning rate {f.learning_rate:g}",
                f"学习率 {f.learning_rate:g}", value=f.learning_rate)


def epochs(f: TrainFacts, cfg: PracticeConfig) -> Check:
    t = cfg.t("epochs")
    large_model = f.model_params_b is not None and f.model_params_b >= t["large_model_b"]
    if f.n_train >= t["large_records"] or large_model:
        (lo, hi), why = t["large"], (f"large model, {f.model_params_b:.0f}B" if large_model
                                     else f"large data, {f.n_train:,} records")
    elif f.task == "copywriting":
        (lo, hi), why = t["creative"], "creative task"
    else:
        (lo, hi), why = t["default"], TASK_NAMES["en"].get(f.task, f.task) + " task"
    ep = f.epochs
    en = f"{ep:g} epochs"
    zh = f"{ep:g} 轮"
    if f.max_steps > 0 and f.n_train:
        ep = f.max_steps * f.batch_size * f.grad_accum / f.n_train
        en = f"max_steps {f.max_steps} = {ep:.2g} epochs over {f.n_train} records (one device)"
        zh = f"max_steps {f.max_steps} = {f.n_train} 条数据上的 {ep:.2g} 轮（单卡）"
    return make("epochs", cfg, "ok" if lo <= ep <= hi else "warn", en, zh, value=round(ep, 3), lo=lo, hi=hi, why=why)


def lora_alpha(f: TrainFacts, cfg: PracticeConfig) -> Check:
    if not _lora(f):
        return make("lora_alpha", cfg, "skip", f"method {f.method}: no LoRA", f"方法 {f.method}：未使用 LoRA")
    en, zh = f"lora_alpha {f.lora_alpha}, lora_r {f.lora_r}", f"lora_alpha {f.lora_alpha}，lora_r {f.lora_r}"
    return make("lora_alpha", cfg, "ok" if f.lora_alpha == f.lora_r else "warn", en, zh,
                value=f.lora_alpha / f.lora_r if f.lora_r else None)


def lora_rank(f: TrainFacts, cfg: PracticeConfig) -> Check:
    if not _lora(f):
        return make("lora_rank", cfg, "skip", f"method {f.method}: no LoRA", f"方法 {f.method}：未使用 LoRA")
    t = cfg.t("lora_rank")
    if f.complexity == "complex":
        ok = t["complex_min"] <= f.lora_r <= t["complex_max"]
    else:
        ok = f.lora_r <= t["simple_max"]
    en = f"lora_r {f.lora_r} for a {f.complexity} task ({f.complexity_why})"
    zh = f"lora_r {f.lora_r}，{'复杂' if f.complexity == 'complex' else '简单'}任务（{f.complexity_why}）"
    return make("lora_rank", cfg, "ok" if ok else "warn", en, zh, value=f.lora_r)


def eval_set(f: TrainFacts, cfg: PracticeConfig) -> Check:
    if f.eval_file:
        return make("eval_set", cfg, "ok", f"eval file {f.eval_file}", f"验证集文件 {f.eval_file}")
    if f.eval_ratio > 0:
        return make("eval_set", cfg, "ok", f"eval_ratio {f.eval_ratio:g} of the data held out",
                    f"留出 {f.eval_ratio:g} 比例的数据作验证集")
    return make("eval_set", cfg, "warn", "no eval file and eval_ratio 0: nothing held out",
                "没有验证集文件且 eval_ratio 为 0：没有留出任何数据")


def eval_overlap(f: TrainFacts, cfg: PracticeConfig) -> Check:
    cov = f.eval_overlap
    if cov is None or not len(cov.ids):
        return make("eval_overlap", cfg, "skip", "no eval set to compare", "没有可比较的验证集")
    n, k = len(cov.ids), cov.covered
    share = k / n
    en = f"{k} of {n} eval records ({share:.1%}) have a near-identical prompt in train"
    zh = f"{n} 条验证数据中 {k} 条（{share:.1%}）在训练集中有近乎相同的提示词"
    near = [f"{i} ~ {m} (Jaccard {b:.2f})" for i, m, b in zip(cov.ids, cov.match, cov.best.tolist())
            if b >= cov.threshold]
    return make("eval_overlap", cfg, "warn" if share > cfg.t("eval_overlap")["max_share"] else "ok", en, zh,
                value=round(share, 4), details=near[:20])


def packing_short(f: TrainFacts, cfg: PracticeConfig) -> Check:
    t = cfg.t("packing_short")
    en = (f"packing {'on' if f.packing else 'off'}; {f.multi_turn_share:.0%} multi-turn, median {f.median_tokens:g} "
          "tokens per record")
    zh = f"packing {'开' if f.packing else '关'}；{f.multi_turn_share:.0%} 多轮，每条中位数 {f.median_tokens:g} token"
    bad = f.packing and f.multi_turn_share >= t["multi_turn_share"] and f.median_tokens < t["short_tokens"]
    return make("packing_short", cfg, "warn" if bad else "ok", en, zh, value=f.packing)


def max_length_cut(f: TrainFacts, cfg: PracticeConfig) -> Check:
    if not f.lengths_n:
        return make("max_length_cut", cfg, "skip", "no record tokenized", "没有数据被分词")
    share = f.lengths_over / f.lengths_n
    en = (f"{f.lengths_over} of {f.lengths_n} records ({share:.1%}) longer than max_length {f.max_length} tokens; "
          f"p99 {f.p99_tokens:g} tokens")
    zh = (f"{f.lengths_n} 条中 {f.lengths_over} 条（{share:.1%}）超过 max_length {f.max_length} token；"
          f"99 分位 {f.p99_tokens:g} token")
    return make("max_length_cut", cfg, "warn" if share > cfg.t("max_length_cut")["max_share"] else "ok", en, zh,
                value=round(share, 4))


def training_checks(f: TrainFacts, cfg: PracticeConfig) -> list[Check]:
    fns = (lora_lr, epochs, lora_alpha, lora_rank, eval_set, eval_overlap, packing_short, max_length_cut)
    return [fn(f, cfg) for fn in fns if fn.__name__ not in cfg.disabled]


# ------------------------------------------------------------------------------ after training
def overfitting(metrics_path: str | Path, cfg: PracticeConfig) -> Check:
    """From OUT/metrics.jsonl: the overfitting event `train` logged (trainer.callbacks.OverfitWatch,
    whose words are kept), else the eval-loss trajectory."""
    p = Path(metrics_path)
    rows = []
    if p.is_file():
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    event = next((r for r in rows if r.get("event") == "overfitting"), None)
    if event:
        return make("overfitting", cfg, "warn", str(event.get("message")), str(event.get("message")))
    evals = [(r.get("step"), r["eval_loss"]) for r in rows if isinstance(r.get("eval_loss"), (int, float))]
    if len(evals) < 2:
        return make("overfitting", cfg, "skip", f"{len(evals)} evaluation(s) logged: too few to tell",
                    f"只记录了 {len(evals)} 次评估：不足以判断")
    best = min(evals, key=lambda e: e[1])
    en = (f"eval loss {evals[0][1]:.4f} -> {evals[-1][1]:.4f} over {len(evals)} evaluations "
          f"(best {best[1]:.4f} at step {best[0]})")
    zh = f"验证 loss 在 {len(evals)} 次评估中 {evals[0][1]:.4f} -> {evals[-1][1]:.4f}（最佳 {best[1]:.4f}，第 {best[0]} 步）"
    return make("overfitting", cfg, "ok", en, zh, value=evals[-1][1])


def _gap_rows(data: dict[str, Any]) -> list[tuple[str, str, float, float, float]]:
    """(task, metric, train, eval, gap) from a `train eval` result: its per-task ``gap`` entries, or
    a plain ``{"train": {metric: v}, "eval": {metric: v}}``. BLEU (0-100) is scaled to 0-1 as
    `train eval` does."""
    rows = []
    gaps = data.get("gap")
    if isinstance(gaps, dict):
        for task, g in gaps.items():
            if isinstance(g, dict) and all(isinstance(g.get(k), (int, float)) for k in ("train", "eval")):
                m = str(g.get("metric", "metric"))
                scale = 100.0 if m == "bleu" else 1.0
                rows.append((str(task), m, float(g["train"]), float(g["eval"]), (g["train"] - g["eval"]) / scale))
        return rows
    tr, ev = data.get("train"), data.get("eval")
    tr = tr.get("metrics", tr) if isinstance(tr, dict) else {}
    ev = ev.get("metrics", ev) if isinstance(ev, dict) else {}
    m = next((m for m in _METRICS if isinstance(tr.get(m), (int, float)) and isinstance(ev.get(m), (int, float))), None)
    return [("all", m, float(tr[m]), float(ev[m]), float(tr[m]) - float(ev[m]))] if m else []


def metric_gap(result_path: str | Path, cfg: PracticeConfig) -> Check | None:
    """From a `train eval` result file (OUT/eval/train_eval.json), when present. Its own verdict
    sentences are kept as the details, so both say it in the same words."""
    p = Path(result_path)
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return make("metric_gap", cfg, "skip", f"{p}: not readable JSON", f"{p}：无法读取的 JSON")
    rows = _gap_rows(data if isinstance(data, dict) else {})
    if not rows:
        return make("metric_gap", cfg, "skip", f"{p}: no metric scored on both training and eval data",
                    f"{p}：没有同时在训练集和验证集上计算的指标")
    worst = max(rows, key=lambda r: r[4])
    en = "; ".join(f"{t}: {m} train {a:.3g}, eval {b:.3g}, gap {g:+.3g}" for t, m, a, b, g in rows)
    zh = "；".join(f"{t}：{m} 训练集 {a:.3g}，验证集 {b:.3g}，差距 {g:+.3g}" for t, m, a, b, g in rows)
    verdict = [str(v) for v in data.get("verdict", []) if isinstance(v, str)] if isinstance(data, dict) else []
    return make("metric_gap", cfg, "warn" if worst[4] > cfg.t("metric_gap")["max_gap"] else "ok", en, zh,
                value=round(worst[4], 4), details=verdict)


def after_training_checks(out: str | Path, cfg: PracticeConfig | None = None,
                          eval_result: str | Path | None = None) -> list[Check]:
    """The checks on a finished run folder: OUT/metrics.jsonl, and the `train eval` result
    (OUT/eval/train_eval.json, OUT/train_eval.json or `eval_result`) when there is one."""
    cfg = cfg or PracticeConfig()
    checks = [] if "overfitting" in cfg.disabled else [overfitting(Path(out) / "metrics.jsonl", cfg)]
    found = [p for p in (Path(out) / "eval" / "train_eval.json", Path(out) / "train_eval.json") if p.is_file()]
    gap = metric_gap(eval_result or (found[0] if found else Path(out) / "eval" / "train_eval.json"), cfg)
    if gap is not None and "metric_gap" not in cfg.disabled:
        checks.append(gap)
    return checks
