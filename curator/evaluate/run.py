"""The whole evaluation: examples -> per-task metrics with intervals, breakdowns, badcases.

`evaluate` returns a JSON-able dict (what ``eval.json`` holds) and the list of wrong cases;
`badcase_row` turns one wrong case into a canonical record that `curate review` shows with the
model's answer beside the reference (``meta.reference``) and why it was judged wrong
(``meta.eval``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal

import numpy as np

from curator.config_check import Bounds, check_config
from curator.errors import RowError
from curator.evaluate.bootstrap import with_intervals
from curator.evaluate.classify import Classification
from curator.evaluate.examples import Example
from curator.evaluate.extract import Extraction, looks_like_json
from curator.evaluate.labels import LabelMap
from curator.evaluate.tasks import TASKS, MathAnswers, declared, guess, label_set_is_classification
from curator.evaluate.textsim import Generation


@dataclass
class EvalConfig:
    """Options of `curate eval` (validated here so the CLI, a recipe and Python get the same checks)."""

    task: Literal["auto", "classification", "extraction", "generation", "math"] = "auto"  # auto + TASKS (a test checks)
    segment: Literal["char", "jieba"] = "char"  # generation tokens: CJK characters, or jieba words
    min_rouge: Annotated[float, Bounds(0, 1)] = 0.3  # generation answers below this ROUGE-L are badcases
    bootstrap: Annotated[int, Bounds(0)] = 1000  # resamples for confidence intervals (0 = none)
    confidence: Annotated[float, Bounds(0.5, 1, hi_open=True)] = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self)


def assign_tasks(examples: list[Example], cfg: EvalConfig) -> dict[str, list[int]]:
    """Indices of the examples per task (see `curator.evaluate.tasks` for the rules)."""
    groups: dict[str, list[int]] = defaultdict(list)
    labels: list[int] = []
    for i, ex in enumerate(examples):
        t = declared(ex.task) if cfg.task == "auto" else cfg.task
        t = t or guess(ex.reference)
        if t == "label":
            labels.append(i)
        else:
            groups[t].append(i)
    if labels:
        if label_set_is_classification([examples[i].reference for i in labels]):
            groups["classification"] += labels
        else:
            groups["generation"] += labels
    return {t: sorted(groups[t]) for t in TASKS if groups.get(t)}


def check_reference(ex: Example, task: str) -> None:
    """An extraction reference must be JSON; raise `RowError` otherwise (the row is rejected)."""
    if task == "extraction" and not looks_like_json(ex.reference):
        raise RowError("bad_reference", "the reference is not a JSON object or array, so fields cannot be compared",
                       field="reference", fix="give the reference as JSON, or evaluate this set with --task generation")


def build_task(task: str, exs: list[Example], cfg: EvalConfig, label_map: LabelMap):
    answers, refs = [e.answer for e in exs], [e.reference for e in exs]
    if task == "classification":
        return Classification(answers, refs, label_map)
    if task == "extraction":
        return Extraction(answers, refs)
    if task == "math":
        return MathAnswers(answers, refs)
    return Generation(answers, refs, segment=cfg.segment, min_rouge=cfg.min_rouge, scores=[e.scores for e in exs])


def _breakdown(obj: Any, keys: list[list[str]]) -> dict[str, dict[str, Any]]:
    """The task's metrics per group (a record may be in several groups, e.g. tags)."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, ks in enumerate(keys):
        for k in ks:
            members[k].append(i)
    if len(members) < 2 and all(len(v) == len(keys) for v in members.values()):
        return {}
    out = {}
    for k in sorted(members, key=lambda k: (-len(members[k]), k)):
        w = np.zeros(len(keys))
        w[members[k]] = 1.0
        out[k] = {"n": len(members[k]), **{m: round(v, 6) for m, v in obj.summarize(obj.sums(w)).items()}}
    return out


def evaluate(examples: list[Example], cfg: EvalConfig, label_map: LabelMap | None = None
             ) -> tuple[dict[str, Any], list[tuple[Example, str, dict[str, Any]]]]:
    """(the eval.json dict, wrong cases as (example, task, detail)) for already-checked examples."""
    label_map = label_map or LabelMap()
    result: dict[str, Any] = {"records": len(examples), "tasks": {}, "by_source": {}, "by_tag": {}}
    wrong: list[tuple[Example, str, dict[str, Any]]] = []
    for task, idx in assign_tasks(examples, cfg).items():
        exs = [examples[i] for i in idx]
        obj = build_task(task, exs, cfg, label_map)
        metrics = with_intervals(obj, len(exs), resamples=cfg.bootstrap, seed=cfg.seed, confidence=cfg.confidence)
        result["tasks"][task] = {"n": len(exs), "primary": obj.primary, "metrics": metrics,
                                 "wrong": int((~obj.ok).sum()), **obj.extras()}
        by_source = _breakdown(obj, [[e.source] for e in exs])
        if by_source:
            result["by_source"][task] = by_source
        by_tag = _breakdown(obj, [e.tags for e in exs])
        if by_tag:
            result["by_tag"][task] = by_tag
        for j in np.flatnonzero(~obj.ok):
            wrong.append((exs[j], task, obj.detail(int(j))))
    wrong.sort(key=lambda w: (w[0].source, w[0].line))
    return result, wrong


def badcase_row(ex: Example, task: str, detail: dict[str, Any]) -> dict[str, Any]:
    """A canonical record for the review queue: prompt, model answer, meta.reference, meta.eval."""
    row = ex.row if isinstance(ex.row, dict) else {}
    if isinstance(row.get("messages"), list):
        out = dict(row)
        meta = dict(out.get("meta") or {})
    else:
        msgs = ([{"role": "user", "content": ex.prompt}] if ex.prompt else []) + [{"role": "assistant", "content": ex.answer}]
        out = {"id": ex.id, "messages": msgs}
        meta = {"source": ex.source}
        if ex.tags:
            meta["tags"] = ex.tags
    meta.setdefault("reference", {"role": "assistant", "content": ex.reference})
    meta["eval"] = {"task": task, **detail}
    out["id"] = out.get("id") or ex.id
    out["meta"] = meta
    return out


def load_examples(paths: Iterable[Path], rejects: Any, stats: Any, task: str = "auto") -> list[Example]:
    """Examples of every input; rows that are not examples go to `rejects` with file and line."""
    from curator.evaluate.examples import to_example
    from curator.io import iter_rows

    out: list[Example] = []
    for path in paths:
        label, name = str(path), Path(path).name
        for raw in iter_rows(path):
            stats.rows += 1
            err = raw.error
            if err is None:
                try:
                    ex = to_example(raw.row, raw.n, name)
                    check_reference(ex, declared(ex.task) if task == "auto" else task)
                    out.append(ex)
                    continue
                except RowError as e:
                    err = e
            rejects.add(err.code, f"{label}:{raw.n}: {err.sentence()}", record=raw.row if raw.row is not None else raw.raw,
                        source=label, line=raw.n, field=err.field)
    return out
