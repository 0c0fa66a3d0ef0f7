"""Data checks: pure functions from `PracticeFacts` (+ the config) to `Check` results.

A check's status is ``warn`` (departs from the rule: the advice applies), ``ok``, ``info``
(worth knowing, no action needed, e.g. a size a little below the range) or ``skip`` (does not
apply to this data, with the reason). Every result carries what was measured, in English and
Chinese, with the numbers; the rule, its source sentence and the advice come from `rules.RULES`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable

from curator.practice.config import PracticeConfig
from curator.practice.check_facts import PracticeFacts
from curator.practice.rules import RULES, TASK_NAMES
from curator.practice.task import detect_task

STATUSES = ("warn", "info", "ok", "skip")


@dataclass
class Check:
    id: str
    status: str
    measured: dict[str, str]
    rule_values: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    details: list[str] = field(default_factory=list)

    def rule_text(self, lang: str = "en") -> str:
        r = RULES[self.id]
        try:
            return r.rule[lang].format(**self.rule_values)
        except (KeyError, ValueError, IndexError):
            return r.rule[lang]

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        r = RULES[self.id]
        return {"id": self.id, "status": self.status, "title": r.title[lang], "measured": self.measured[lang],
                "rule": self.rule_text(lang), "source": r.source[lang], "advice": r.advice[lang],
                "value": self.value, "details": self.details,
                **({"title_zh": r.title["zh"], "measured_zh": self.measured["zh"], "rule_zh": self.rule_text("zh"), "source_zh": r.source["zh"],
                    "advice_zh": r.advice["zh"]} if lang == "en" else {})}


def make(rule: str, cfg: PracticeConfig, status: str, en: str, zh: str, *, value: Any = None,
         details: list[str] | None = None, **rule_values: Any) -> Check:
    return Check(rule, status, {"en": en, "zh": zh}, {**cfg.t(rule), **rule_values}, value, details or [])


def _pct(x: float) -> str:
    return f"{x:.1%}"


# ---------------------------------------------------------------------------------- the checks
def general_share(st: PracticeFacts, cfg: PracticeConfig) -> Check:
    t = cfg.t("general_share")
    sources = {k: v for k, v in st.sources.counts.items()}
    general = {k: v for k, v in sources.items() if any(fnmatch.fnmatch(str(k).lower(), p.lower())
                                                         for p in cfg.general_sources)}
    if len(sources) < 2 and not general:
        return make("general_share", cfg, "skip", f"one source only ({', '.join(map(str, sources)) or 'none'}): "
                    "not a mix", f"只有一个来源（{', '.join(map(str, sources)) or '无'}）：不是混合数据")
    n = sum(general.values())
    share = st.share(n)
    names = ", ".join(f"{k} {v}" for k, v in general.items()) or "none"
    others = ", ".join(str(k) for k in sources if k not in general)
    en = f"general data {_pct(share)} ({n} of {st.records} records; general sources: {names})"
    zh = f"通用数据占 {_pct(share)}（{st.records} 条中 {n} 条；通用来源：{names}）"
    details = [] if general else [f"no source matched general_sources {cfg.general_sources}; sources: {others}"]
    status = "ok" if t["min"] <= share <= t["max"] else "warn"
    return make("general_share", cfg, status, en, zh, value=round(share, 4), details=details)


def data_size(st: PracticeFacts, cfg: PracticeConfig, task: str, why: str) -> Check:
    t = cfg.t("data_size")
    n = st.records
    tn = TASK_NAMES
    if task not in ("copywriting", "reference_qa", "classification"):
        return make("data_size", cfg, "skip", f"{n} records; task {tn['en'][task]} ({why}): no size rule for it",
                    f"{n} 条；任务 {tn['zh'][task]}（{why}）：无数据量规则", value=n, task=tn["en"][task], lo=0, hi=0)
    classes = len(st.labels.counts)
    key = "classification_many" if task == "classification" and classes >= t["many_classes"] else task
    lo, hi = t[key]
    many = f", {classes} classes" if task == "classification" else ""
    en = f"{n} records; task {tn['en'][task]} ({why}{many})"
    zh = f"{n} 条；任务 {tn['zh'][task]}（{why}{many}）"
    rv = {"task": tn["en"][task], "lo": lo, "hi": hi}
    if n < lo * t["far_below"]:
        return make("data_size", cfg, "warn", en + f": far below {lo:,}", zh + f"：远低于 {lo:,}", value=n, **rv)
    if n < lo:
        return make("data_size", cfg, "info", en + f": below {lo:,}", zh + f"：低于 {lo:,}", value=n, **rv)
    if n > hi * t["far_above"]:
        if st.scored:
            mean = st.score_sum / st.scored
            low = st.low_scored / st.scored
            q_en = f"; mean quality score {mean:.2f}, {low:.0%} below {t['low_score']:g}"
            q_zh = f"；平均质量分 {mean:.2f}，{low:.0%} 低于 {t['low_score']:g}"
            status = "warn" if mean < t["low_score"] or low >= 0.3 else "info"
            return make("data_size", cfg, status, en + f": far above {hi:,}" + q_en, zh + f"：远高于 {hi:,}" + q_zh,
                        value=n, **rv)
        return make("data_size", cfg, "info", en + f": far above {hi:,}; no quality scores (run `curate score`) to "
                    "tell whether the extra rows help", zh + f"：远高于 {hi:,}；没有质量分（运行 `curate score`），"
                    "无法判断多出的数据是否有益", value=n, **rv)
    return make("data_size", cfg, "ok", en, zh, value=n, **rv)


def _class_counts(st: PracticeFacts) -> list[tuple[str, int]]:
    return sorted(((str(k), v) for k, v in st.labels.counts.items() if k != "(other)"), key=lambda kv: (kv[1], kv[0]))


def class_examples(st: PracticeFacts, cfg: PracticeConfig, task: str) -> Check:
    if task != "classification":
        return make("class_examples", cfg, "skip", "not a classification set", "不是分类数据")
    m = cfg.t("class_examples")["min_per_class"]
    counts = _class_counts(st)
    thin = [(k, v) for k, v in counts if v < m]
    en = f"{len(counts)} classes, smallest {counts[0][0]!r} with {counts[0][1]}" if counts else "no labels"
    zh = f"{len(counts)} 个类别，最小的 {counts[0][0]!r} 只有 {counts[0][1]} 条" if counts else "没有标签"
    if thin:
        en += f"; {len(thin)} classes below {m}"
        zh += f"；{len(thin)} 个类别少于 {m} 条"
    return make("class_examples", cfg, "warn" if thin else "ok", en, zh, value=dict(counts),
                details=[f"{k}: {v}" for k, v in thin[:20]])


def class_imbalance(st: PracticeFacts, cfg: PracticeConfig, task: str) -> Check:
    if task != "classification":
        return make("class_imbalance", cfg, "skip", "not a classification set", "不是分类数据")
    counts = _class_counts(st)
    if len(counts) < 2:
        return make("class_imbalance", cfg, "skip", "fewer than 2 classes", "少于 2 个类别")
    ratio = counts[-1][1] / counts[0][1]
    en = f"imbalance ratio {ratio:.1f} ({counts[-1][0]!r} {counts[-1][1]} vs {counts[0][0]!r} {counts[0][1]})"
    zh = f"不平衡比 {ratio:.1f}（{counts[-1][0]!r} {counts[-1][1]} 条 vs {counts[0][0]!r} {counts[0][1]} 条）"
    return make("class_imbalance", cfg, "warn" if ratio > cfg.t("class_imbalance")["max_ratio"] else "ok", en, zh,
                value=round(ratio, 3))


def extraction_fields(st: PracticeFacts, cfg: PracticeConfig, task: str) -> Check:
    if task != "extraction":
        return make("extraction_fields", cfg, "skip", "not an extraction set", "不是信息抽取数据")
    t = cfg.t("extraction_fields")
    js = st.json_answers
    non_json = st.answers - js
    if cfg.schema:
        schema, whence = cfg.schema, "schema"
        missing = {f: st.schema_missing[f] for f in schema}
    else:  # inferred: the fields at least half of the JSON answers have
        schema = [k for k, v in st.keys.counts.items() if k != "(other)" and v >= 0.5 * js]
        whence = "fields in most answers (no schema given)"
        missing = {f: js - st.keys.counts[f] for f in schema}
    extra = [k for k, v in st.keys.counts.items() if k not in schema and k != "(other)"]
    bad = {f: v for f, v in missing.items() if js and v / js > t["max_missing"]}
    nj_share = non_json / st.answers if st.answers else 0.0
    en = (f"{js} JSON answers, {non_json} not JSON ({_pct(nj_share)}); {whence}: {', '.join(schema) or 'none'}")
    zh = (f"{js} 条 JSON 答案，{non_json} 条不是 JSON（{_pct(nj_share)}）；字段：{', '.join(schema) or '无'}")
    details = [f"{f}: missing in {v} of {js}" for f, v in bad.items()]
    if cfg.schema and extra:
        details.append(f"fields not in the schema: {', '.join(extra[:20])}")
    status = "warn" if bad or nj_share > t["max_non_json"] or (cfg.schema and extra) else "ok"
    return make("extraction_fields", cfg, status, en, zh, value={"json": js, "non_json": non_json,
                                                                   "missing": missing}, details=details)


def system_prompts(st: PracticeFacts, cfg: PracticeConfig) -> Check:
    counts = st.system.counts
    variants = len(counts)
    with_sys = sum(v for k, v in counts.items() if k)
    en = f"{variants} system-prompt variants ({with_sys} of {st.records} records have one)"
    zh = f"{variants} 种系统提示词（{st.records} 条中 {with_sys} 条有系统提示词）"
    details = [f"{v}x {st.system_sample.get(k, '(no system prompt)' if not k else '…')!r}"
               for k, v in st.system.top(5)]
    status = "warn" if variants > cfg.t("system_prompts")["max_variants"] else "ok"
    return make("system_prompts", cfg, status, en, zh, value=variants, details=details)


def reasoning_mix(st: PracticeFacts, cfg: PracticeConfig) -> Check:
    w, n = st.with_reasoning, st.records
    en = f"{w} of {n} records with reasoning ({_pct(st.share(w))})"
    zh = f"{n} 条中 {w} 条带推理过程（{_pct(st.share(w))}）"
    mixed = 0 < w < n
    status = "ok" if not mixed else ("info" if cfg.t("reasoning_mix")["allow_mixed"] else "warn")
    return make("reasoning_mix", cfg, status, en, zh, value=round(st.share(w), 4))


def output_format(st: PracticeFacts, cfg: PracticeConfig) -> Check:
    t = cfg.t("output_format")
    mixed = []
    for group, c in st.formats.items():
        total = sum(c.values())
        minority = min(c.get("json", 0), c.get("prose", 0))
        if total >= t["min_group"] and minority / total > t["max_minority"]:
            name = group if not group.startswith("system:") else \
                f"system prompt {st.system_sample.get(group[7:], '…')[:40]!r}"
            mixed.append(f"{name}: {c.get('json', 0)} JSON, {c.get('prose', 0)} prose")
    groups = len(st.formats)
    en = f"{groups} task groups; {len(mixed)} mix JSON and prose answers"
    zh = f"{groups} 个任务组；其中 {len(mixed)} 个混用 JSON 和自然语言答案"
    return make("output_format", cfg, "warn" if mixed else "ok", en, zh, value=len(mixed), details=mixed[:20])


def duplicates(st: PracticeFacts, cfg: PracticeConfig, near: dict[str, Any]) -> Check:
    d = near["duplicates"]
    share = d / near["sample"][0] if near.get("sample") else st.share(d)
    en = f"{d} exact or near duplicates ({_pct(share)}, Jaccard >= {near['threshold']:g})" + _sampled(near, "en")
    zh = f"{d} 条完全或近似重复（{_pct(share)}，Jaccard >= {near['threshold']:g}）" + _sampled(near, "zh")
    return make("duplicates", cfg, _status(share > cfg.t("duplicates")["max_share"], near), en + _bound(near, "en"),
                zh + _bound(near, "zh"), value=round(share, 4),
                details=[_group("duplicate records", g) for g in near.get("duplicate_examples", [])])


def _status(departs: bool, near: dict[str, Any]) -> str:
    """`warn` when the rule is broken. On a sampled report the figure is a lower bound (a pair is
    found only when both records are in the sample), so staying under the limit proves nothing:
    `info`, not `ok`, and `_bound` says how to get the whole-file count."""
    if departs:
        return "warn"
    return "info" if near.get("sample") else "ok"


def _bound(near: dict[str, Any], lang: str) -> str:
    if not near.get("sample"):
        return ""
    if lang == "en":
        return (" — a lower bound: a pair counts only when both records are in the sample; "
                "`curate dedup` counts the whole file")
    return " —— 这是下限：只有两条记录都在样本里才算一对；整份文件的数目请用 `curate dedup` 统计"


def _sampled(near: dict[str, Any], lang: str) -> str:
    """The label of a figure the report found on a sample of the records (`curator.report.sampling`)."""
    if not near.get("sample"):
        return ""
    n, m = near["sample"]
    return f"; estimated from {n:,} of {m:,} records" if lang == "en" else f"；由 {m:,} 条中的 {n:,} 条估算"


def _group(what: str, members: list[int]) -> str:
    shown = ", ".join(map(str, members[:8])) + (", …" if len(members) > 8 else "")
    return f"{what} {shown} (n-th valid record in file order)"


def conflicts(st: PracticeFacts, cfg: PracticeConfig, near: dict[str, Any]) -> Check:
    g = near["conflict_groups"]
    en = f"{g} groups of near-identical prompts with different answers" + _sampled(near, "en")
    zh = f"{g} 组近乎相同的提示词对应不同答案" + _sampled(near, "zh")
    return make("conflicts", cfg, _status(g > cfg.t("conflicts")["max_groups"], near), en + _bound(near, "en"),
                zh + _bound(near, "zh"), value=g,
                details=[_group("conflicting records", m) for m in near.get("conflict_examples", [])])


def badcase_coverage(cov: Any, cfg: PracticeConfig, path: str) -> Check:
    """`cov`: a `coverage.Coverage` of the badcases against the data."""
    n = len(cov.ids)
    if not n:
        return make("badcase_coverage", cfg, "skip", f"{path}: no badcases", f"{path}：没有 badcase")
    share = cov.covered / n
    un = cov.uncovered()
    en = f"{cov.covered} of {n} badcases ({_pct(share)}) have a training record near them; {len(un)} have none"
    zh = f"{n} 个 badcase 中 {cov.covered} 个（{_pct(share)}）有相近的训练数据；{len(un)} 个没有"
    status = "warn" if share < cfg.t("badcase_coverage")["min_coverage"] else ("info" if un else "ok")
    return make("badcase_coverage", cfg, status, en, zh, value=round(share, 4),
                details=[f"no record near badcase {i}" for i in un[:50]])


# ---------------------------------------------------------------------------------- all of them
def data_checks(st: PracticeFacts, cfg: PracticeConfig, *, badcases: Any = None, badcase_path: str = "") -> list[Check]:
    """Every data check on one set, in rule-table order (disabled rules left out)."""
    task, why = detect_task(st)
    near = st.near_result()
    runs: list[tuple[str, Callable[[], Check]]] = [
        ("general_share", lambda: general_share(st, cfg)),
        ("data_size", lambda: data_size(st, cfg, task, why)),
        ("class_examples", lambda: class_examples(st, cfg, task)),
        ("class_imbalance", lambda: class_imbalance(st, cfg, task)),
        ("extraction_fields", lambda: extraction_fields(st, cfg, task)),
        ("system_prompts", lambda: system_prompts(st, cfg)),
        ("reasoning_mix", lambda: reasoning_mix(st, cfg)),
        ("output_format", lambda: output_format(st, cfg)),
        ("duplicates", lambda: duplicates(st, cfg, near)),
        ("conflicts", lambda: conflicts(st, cfg, near)),
    ]
    if badcases is not None:
        runs.append(("badcase_coverage", lambda: badcase_coverage(badcases, cfg, badcase_path)))
    return [fn() for rid, fn in runs if rid not in cfg.disabled]


def summary(checks: list[Check]) -> dict[str, int]:
    return {s: sum(c.status == s for c in checks) for s in STATUSES}
