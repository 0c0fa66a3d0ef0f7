"""The rule table: one entry per practice check.

Each rule says what it measures, the rule of thumb, the sentence it comes from (English and
Chinese, as the SFT guides annotators learn from put it), its default thresholds (every key can be
overridden in the practice YAML, see `curator.practice.config`), what to do when it trips, and
which pipeline stages change it (`curate run` prints a check after those stages).

The texts are data, not code, so docs/practice.md and docs/zh/practice.md can be checked against
them (tests/test_practice.py does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DATA_STAGES = ("convert", "distill", "bestofk", "filter", "dedup", "mix")


@dataclass(frozen=True)
class Rule:
    id: str
    scope: str  # data | train | after
    title: dict[str, str]
    rule: dict[str, str]
    source: dict[str, str]
    advice: dict[str, str]
    defaults: dict[str, Any] = field(default_factory=dict)
    stages: tuple[str, ...] = ()


def _r(id: str, scope: str, title: tuple[str, str], rule: tuple[str, str], source: tuple[str, str],
       advice: tuple[str, str], defaults: dict[str, Any] | None = None, stages: tuple[str, ...] = ()) -> Rule:
    en_zh = lambda t: {"en": t[0], "zh": t[1]}  # noqa: E731
    return Rule(id, scope, en_zh(title), en_zh(rule), en_zh(source), en_zh(advice), defaults or {}, stages)


RULES: dict[str, Rule] = {r.id: r for r in (
    # ------------------------------------------------------------------ data
    _r("general_share", "data",
       ("General data share", "通用数据占比"),
       ("{min:.0%}–{max:.0%} of the set is general SFT data", "通用 SFT 数据占 {min:.0%}–{max:.0%}"),
       ("Mix 15–30% general SFT data into a domain set so the model does not forget its general abilities.",
        "领域数据中混入 15%–30% 的通用 SFT 数据，防止模型遗忘通用能力。"),
       ("Re-mix with `curate mix domain.jsonl:0.8 general.jsonl:0.2`; name the general sources in the practice "
        "YAML (`general_sources:`) if they are not called *general*.",
        "用 `curate mix domain.jsonl:0.8 general.jsonl:0.2` 重新混合；如果通用数据的来源名不含 general，"
        "在实践检查 YAML 的 `general_sources:` 中列出它们。"),
       {"min": 0.15, "max": 0.30}, ("mix",)),
    _r("data_size", "data",
       ("Data size for the task", "按任务类型的数据量"),
       ("{task}: {lo:,}–{hi:,} records", "{task}：{lo:,}–{hi:,} 条"),
       ("Copywriting and scripts need about 2–3k good examples, reference-based QA 2k–10k, classification 1–3k "
        "(10k or more with many or hard classes); more low-quality data is worse than fewer good rows.",
        "文案、脚本类约 2–3k 条优质数据，参考资料问答 2k–10k，分类 1–3k（类别多或难时 10k 以上）；"
        "低质量数据越多越差，不如少而精。"),
       ("Far below: add or distill more examples of the task (`curate distill`, `curate bestofk`). Far above with a "
        "low quality score: keep the best rows (`curate filter` with a score threshold, `curate bestofk`) rather "
        "than all of them.",
        "远低于范围：补充或蒸馏更多该任务的样本（`curate distill`、`curate bestofk`）。远高于范围且质量分低："
        "只保留最好的数据（`curate filter` 设分数阈值、`curate bestofk`），而不是全部使用。"),
       {"copywriting": [2000, 3000], "reference_qa": [2000, 10000], "classification": [1000, 3000],
        "classification_many": [1000, 10000], "many_classes": 20, "far_below": 0.5, "far_above": 3.0,
        "low_score": 0.5}, DATA_STAGES),
    _r("class_examples", "data",
       ("Examples per class", "每类样本数"),
       ("every class has at least {min_per_class} examples", "每个类别至少 {min_per_class} 条"),
       ("A classification set needs enough examples of every label; a class with a handful of examples is not "
        "learned.", "分类数据每个标签都要有足够样本；只有寥寥几条的类别学不会。"),
       ("Add examples of the thin classes (distill or write them), or merge them into a neighbouring class.",
        "为样本少的类别补充数据（蒸馏或人工编写），或将其并入相近的类别。"),
       {"min_per_class": 10}, DATA_STAGES),
    _r("class_imbalance", "data",
       ("Class imbalance", "类别不平衡"),
       ("largest class / smallest class <= {max_ratio:g}", "最大类 / 最小类 <= {max_ratio:g}"),
       ("Keep the classes roughly balanced; a model trained on a skewed set predicts the majority label.",
        "各类别数量应大致均衡；类别严重倾斜时模型倾向于预测多数类。"),
       ("Add examples of the small classes, or re-mix one file per class at chosen shares (`curate mix a.jsonl:0.5 "
        "b.jsonl:0.5 --max-repeats 3` up-samples the small one, at most 3 copies a record).",
        "为小类补充样本，或按类别拆成文件后按指定比例重新混合（`curate mix a.jsonl:0.5 b.jsonl:0.5 --max-repeats 3` "
        "对小类上采样，每条最多重复 3 次）。"),
       {"max_ratio": 10.0}, DATA_STAGES),
    _r("extraction_fields", "data",
       ("Extraction fields vs schema", "抽取字段与 schema"),
       ("every answer is JSON with the schema's fields (at most {max_missing:.0%} missing a field)",
        "每条答案都是含 schema 全部字段的 JSON（缺字段的比例不超过 {max_missing:.0%}）"),
       ("For extraction, every answer must follow the same schema: the same fields, always present (empty when "
        "absent), in the same output format.",
        "信息抽取任务的答案必须遵循同一 schema：字段相同且始终出现（没有值时留空），输出格式一致。"),
       ("Fix the answers missing fields (fill them as empty) and the non-JSON answers; give the schema in the "
        "practice YAML (`schema: [field, ...]`) so the check knows it.",
        "修正缺字段的答案（缺失的值留空）和非 JSON 答案；在实践检查 YAML 中给出 schema（`schema: [字段, ...]`）。"),
       {"max_missing": 0.05, "max_non_json": 0.05}, DATA_STAGES),
    _r("system_prompts", "data",
       ("System prompts", "系统提示词"),
       ("at most {max_variants} different system prompts (no system prompt counts as one)",
        "不同的系统提示词不超过 {max_variants} 种（无系统提示词也算一种）"),
       ("Keep the format uniform: one system prompt per task, used the same way in training and in deployment.",
        "格式要统一：每个任务使用同一个系统提示词，训练与上线时保持一致。"),
       ("Unify the system prompts (or tag each task in meta.task so the variants are intended); use the one you "
        "will deploy with.", "统一系统提示词（或在 meta.task 中标注各任务，使差异是有意为之），使用上线时的那一个。"),
       {"max_variants": 3}, DATA_STAGES),
    _r("reasoning_mix", "data",
       ("Reasoning mixed with no reasoning", "推理与非推理数据混杂"),
       ("all records with reasoning, or none", "全部带推理过程，或全部不带"),
       ("Do not mix records with a chain of thought and records without one for the same task: the model learns "
        "both behaviours and switches between them unpredictably.",
        "同一任务不要混用带思维链和不带思维链的数据：模型会学到两种行为，并不可预测地来回切换。"),
       ("Regenerate the answers without reasoning with a reasoning teacher (`curate distill --mode regenerate`), or "
        "drop the reasoning (`--reasoning drop`); set `allow_mixed: true` when the mix is deliberate (e.g. a "
        "think / no-think switch).",
        "用推理模型重新生成缺少推理的答案（`curate distill --mode regenerate`），或去掉推理（`--reasoning drop`）；"
        "有意混合时（如思考/不思考开关）设置 `allow_mixed: true`。"),
       {"allow_mixed": False}, DATA_STAGES),
    _r("output_format", "data",
       ("Output format per task", "同一任务的输出格式"),
       ("one output format per task (JSON or prose; the other at most {max_minority:.0%})",
        "每个任务只用一种输出格式（JSON 或自然语言；另一种不超过 {max_minority:.0%}）"),
       ("Answers to the same task must share one output format; mixing JSON and prose answers teaches the model "
        "that either is fine.", "同一任务的答案应使用同一种输出格式；JSON 与自然语言混用会让模型认为两者都可以。"),
       ("Convert the odd answers to the task's format (or regenerate them); tag different tasks in meta.task.",
        "将格式不一致的答案转换为该任务的格式（或重新生成）；不同任务在 meta.task 中标注。"),
       {"max_minority": 0.05, "min_group": 5}, DATA_STAGES),
    _r("duplicates", "data",
       ("Duplicates left in", "残留的重复数据"),
       ("at most {max_share:.0%} exact or near duplicates", "完全或近似重复不超过 {max_share:.0%}"),
       ("Remove duplicates and near-duplicates before training: repeated rows are over-weighted and make "
        "overfitting more likely.", "训练前去除重复和近似重复数据：重复样本权重过大，更容易过拟合。"),
       ("Run `curate dedup` (near-duplicates by MinHash, Chinese-aware).",
        "运行 `curate dedup`（基于 MinHash 的近似去重，支持中文）。"),
       {"max_share": 0.01}, ("convert", "distill", "bestofk", "filter", "dedup", "mix")),
    _r("conflicts", "data",
       ("Conflicting answers", "答案冲突"),
       ("at most {max_groups} groups of near-identical prompts with different answers",
        "近乎相同的提示词对应不同答案的组不超过 {max_groups} 个"),
       ("The same question must not have contradicting answers in the training set; conflicts teach the model "
        "noise.", "训练集中同一个问题不能有相互矛盾的答案；冲突数据教给模型的是噪声。"),
       ("Review the groups (`curate dedup --conflicts conflicts.jsonl`, then `curate review`) and keep one answer, "
        "or drop them (`--drop-conflicts`).",
        "审阅冲突组（`curate dedup --conflicts conflicts.jsonl`，再 `curate review`）只保留一个答案，或全部删除"
        "（`--drop-conflicts`）。"),
       {"max_groups": 0}, ("convert", "distill", "bestofk", "filter", "dedup", "mix")),
    _r("badcase_coverage", "data",
       ("Badcase coverage", "badcase 覆盖"),
       ("at least {min_coverage:.0%} of badcases have a training record near them (prompt Jaccard >= "
        "{threshold:g})", "至少 {min_coverage:.0%} 的 badcase 有相近的训练数据（提示词 Jaccard >= {threshold:g}）"),
       ("Every badcase found in evaluation should be covered by targeted training data; a badcase with nothing "
        "like it in the set will not be fixed by training.",
        "评测中发现的每个 badcase 都应有针对性的训练数据覆盖；训练集中没有相似数据的 badcase 不会因训练而修复。"),
       ("Write prompts like the uncovered badcases listed, answer them (`curate distill`, `curate bestofk`), then mix "
        "them in.", "为列出的未覆盖 badcase 编写相似的提示词，生成答案（`curate distill`、`curate bestofk`），再混入训练集。"),
       {"min_coverage": 0.9, "threshold": 0.3}, ("mix",)),
    # ------------------------------------------------------------------ training config
    _r("lora_lr", "train",
       ("LoRA learning rate", "LoRA 学习率"),
       ("{min:g} <= learning rate <= {max:g}", "{min:g} <= 学习率 <= {max:g}"),
       ("For LoRA the learning rate is usually 1e-4 to 2e-4.", "LoRA 的学习率一般取 1e-4 到 2e-4。"),
       ("Set `learning_rate` between 1e-4 and 2e-4 unless you measured that another value works better.",
        "将 `learning_rate` 设在 1e-4 到 2e-4 之间，除非实测其他值更好。"),
       {"min": 1e-4, "max": 2e-4}),
    _r("epochs", "train",
       ("Epochs", "训练轮数"),
       ("{lo:g}–{hi:g} epochs ({why})", "{lo:g}–{hi:g} 轮（{why}）"),
       ("Train 2–5 epochs; creative tasks may need 5–10, large data sets or large models 1–3.",
        "一般训练 2–5 轮；创作类任务可到 5–10 轮，数据量大或模型大时 1–3 轮。"),
       ("Change `epochs` (or `max_steps`) into the range; watch the eval loss for overfitting.",
        "把 `epochs`（或 `max_steps`）调到范围内；关注验证集 loss 是否过拟合。"),
       {"default": [2, 5], "creative": [2, 10], "large": [1, 3], "large_records": 100000, "large_model_b": 30}),
    _r("lora_alpha", "train",
       ("LoRA alpha vs rank", "LoRA alpha 与 rank"),
       ("lora_alpha = lora_r", "lora_alpha = lora_r"),
       ("Set LoRA alpha equal to the rank, so the update is scaled by 1 whatever the rank.",
        "LoRA 的 alpha 设为与 rank 相等，使更新的缩放系数为 1，与 rank 无关。"),
       ("Set `lora_alpha` to the same value as `lora_r` (or lower the learning rate to compensate).",
        "将 `lora_alpha` 设为与 `lora_r` 相同的值（或相应降低学习率）。"),
       {}),
    _r("lora_rank", "train",
       ("LoRA rank for the task", "按任务复杂度的 LoRA rank"),
       ("rank <= {simple_max} for simple tasks, {complex_min}–{complex_max} for complex ones",
        "简单任务 rank <= {simple_max}，复杂任务 {complex_min}–{complex_max}"),
       ("Use a LoRA rank of 64 or less for simple tasks and 256–512 for complex ones.",
        "简单任务 LoRA rank 取 64 以内，复杂任务取 256–512。"),
       ("Set `lora_r` (and `lora_alpha` with it) for the task; say `complexity: simple|complex` in the practice "
        "YAML when the guess is wrong.", "按任务设置 `lora_r`（同时设置 `lora_alpha`）；如果复杂度判断不对，"
        "在实践检查 YAML 中写 `complexity: simple|complex`。"),
       {"simple_max": 64, "complex_min": 256, "complex_max": 512}),
    _r("eval_set", "train",
       ("Evaluation set", "验证集"),
       ("an evaluation set is held out", "留出验证集"),
       ("Always hold out an evaluation set; without one, overfitting cannot be seen.",
        "一定要留出验证集；没有验证集就看不出是否过拟合。"),
       ("Pass `--eval FILE` (from `curate split`) or keep `eval_ratio` above 0.",
        "传入 `--eval FILE`（来自 `curate split`）或让 `eval_ratio` 大于 0。"),
       {}),
    _r("eval_overlap", "train",
       ("Eval overlapping train", "验证集与训练集重叠"),
       ("at most {max_share:.0%} of eval prompts near a training prompt (Jaccard >= {threshold:g})",
        "与训练集提示词相近（Jaccard >= {threshold:g}）的验证样本不超过 {max_share:.0%}"),
       ("The evaluation set must not overlap the training set, or the eval loss says nothing about new data.",
        "验证集不能与训练集重叠，否则验证 loss 无法反映模型在新数据上的表现。"),
       ("Split with `curate split --leakage move`, or remove the listed eval records.",
        "用 `curate split --leakage move` 划分，或删除列出的验证样本。"),
       {"max_share": 0.01, "threshold": 0.7}),
    _r("packing_short", "train",
       ("Packing on short multi-turn data", "短多轮对话上的 packing"),
       ("no packing when most records are multi-turn and shorter than {short_tokens} tokens",
        "大多数数据是短于 {short_tokens} token 的多轮对话时不用 packing"),
       ("Do not pack very short multi-turn conversations: many unrelated dialogues share one row, and the "
        "per-dialogue context the turns depend on is diluted.",
        "非常短的多轮对话不要使用 packing：许多不相关的对话挤在一行里，多轮之间依赖的上下文被稀释。"),
       ("Set `packing=false` for this data.", "对这份数据设置 `packing=false`。"),
       {"short_tokens": 256, "multi_turn_share": 0.5}),
    _r("max_length_cut", "train",
       ("Records longer than max_length", "超过 max_length 的数据"),
       ("at most {max_share:.0%} of records longer than max_length", "超过 max_length 的数据不超过 {max_share:.0%}"),
       ("max_length should cover almost all records; cutting more than a few percent loses answers and their "
        "end-of-turn token.", "max_length 应覆盖几乎所有数据；超过的比例不能高于百分之几，否则会丢失答案及其结束符。"),
       ("Raise `max_length` to about the 99th percentile of the token lengths shown, or split the long records "
        "(here they are rejected, not truncated).",
        "把 `max_length` 提高到约为所示 token 长度的 99 分位，或拆分过长数据（此处过长数据会被拒绝，而不是截断）。"),
       {"max_share": 0.03, "sample": 2000}),
    # ------------------------------------------------------------------ after training
    _r("overfitting", "after",
       ("Eval loss rising while train loss falls", "训练 loss 下降而验证 loss 上升"),
       ("eval loss does not rise while train loss falls", "训练 loss 下降时验证 loss 不应上升"),
       ("When the eval loss rises while the train loss keeps falling, the model is memorising the training set.",
        "训练 loss 持续下降而验证 loss 上升，说明模型在记忆训练集（过拟合）。"),
       ("Use the best checkpoint (kept), and train fewer epochs, with a lower learning rate or with more data.",
        "使用保留的最佳检查点，并减少训练轮数、降低学习率或增加数据。"),
       {}),
    _r("metric_gap", "after",
       ("Train vs eval task metric", "训练集与验证集任务指标差距"),
       ("train metric - eval metric <= {max_gap:g}", "训练集指标 - 验证集指标 <= {max_gap:g}"),
       ("For deterministic tasks compare the metric on the training set and on the validation set: a big gap is "
        "overfitting.", "确定性任务（分类、抽取）要对比训练集和验证集上的指标：差距大就是过拟合。"),
       ("Train fewer epochs or with more varied data; look at the eval badcases (`curate review`).",
        "减少训练轮数或使用更多样的数据；查看验证集上的 badcase（`curate review`）。"),
       {"max_gap": 0.1}),
)}

TASKS = ("copywriting", "reference_qa", "classification", "extraction", "general")
TASK_NAMES = {"en": {"copywriting": "copywriting / scripts", "reference_qa": "reference-based QA",
                     "classification": "classification", "extraction": "extraction", "general": "general"},
              "zh": {"copywriting": "文案 / 脚本", "reference_qa": "参考资料问答", "classification": "分类",
                     "extraction": "信息抽取", "general": "通用"}}
TASK_ALIASES = {"creative": "copywriting", "copy": "copywriting", "scripts": "copywriting", "script": "copywriting",
                "writing": "copywriting", "文案": "copywriting", "rag": "reference_qa", "qa": "reference_qa",
                "reference": "reference_qa", "reading": "reference_qa", "cls": "classification",
                "classify": "classification", "分类": "classification", "ie": "extraction", "抽取": "extraction"}


def task_name(task: str) -> str:
    """A task as the user typed it -> one of TASKS (aliases accepted), or '' when unknown."""
    t = str(task).strip().lower().replace("-", "_")
    t = TASK_ALIASES.get(t, t)
    return t if t in TASKS else ""
