"""One row of a prediction file -> an `Example`: the model's answer and the reference answer.

Shapes understood (so metrics never depend on how the answers were made):

- a canonical record (`train generate` output): the answer is the last assistant turn, the
  reference is ``meta.reference`` (a message dict or a string);
- a flat row: LLaMA-Factory's ``{"prompt", "predict", "label"}``, or any row with a reference
  key (label, reference, target, gold, expected, ground_truth, answer, output) and an answer key
  (predict, prediction, model_answer, response, generated, completion, output, answer) — the
  reference key is chosen first, so ``{"instruction", "output", "prediction"}`` reads `output` as
  the reference.

A row without a reference or an answer is not an example: the caller rejects it with the
`RowError` raised here (file, line, what, fix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from curator.errors import RowError

REF_KEYS = ("label", "reference", "target", "gold", "expected", "ground_truth", "answer", "output")
ANSWER_KEYS = ("predict", "prediction", "model_answer", "response", "generated", "completion", "output", "answer")
PROMPT_KEYS = ("prompt", "instruction", "question", "query", "input")
_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.S)


@dataclass(slots=True)
class Example:
    id: str
    line: int
    prompt: str
    answer: str
    reference: str
    source: str
    tags: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    task: str | None = None  # declared by the row (meta.task / task); None = detect
    row: Any = None          # the original row, written back out for a badcase


def _text(v: Any) -> str | None:
    """A reference/answer value as text: strings as is, a message dict's content, JSON otherwise."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and "content" in v and ("role" in v or len(v) <= 3):
        return v.get("content") or ""
    if isinstance(v, (int, float, bool, list, dict)):
        return orjson.dumps(v).decode()
    return str(v)


def _scores(meta: dict[str, Any]) -> dict[str, float]:
    s = meta.get("scores")
    if not isinstance(s, dict):
        return {}
    return {str(k): float(v) for k, v in s.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _tags(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    return [str(t) for t in v] if isinstance(v, list) else []


def to_example(row: Any, line: int, source: str) -> Example:
    """Read one decoded row; raises `RowError` when it has no answer or no reference."""
    if not isinstance(row, dict):
        raise RowError("bad_structure", f"row is a {type(row).__name__}, not a JSON object",
                       fix='each row needs an answer and a reference, e.g. {"predict": ..., "label": ...}')
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    task = row.get("task") or meta.get("task")
    rid = str(row.get("id") or meta.get("id") or f"{source}:{line}")
    msgs = row.get("messages")
    if isinstance(msgs, list):
        answer = prompt = None
        for m in msgs:
            if isinstance(m, dict) and m.get("role") == "assistant":
                answer = m.get("content") or ""
            elif isinstance(m, dict) and m.get("role") == "user":
                prompt = m.get("content") or ""
        ref = _text(meta.get("reference"))
        if ref is None:
            ref = next((_text(row[k]) for k in REF_KEYS if k in row), None)
        if ref is None:
            raise RowError("no_reference", "no reference answer (meta.reference is missing)", field="meta.reference",
                           fix="give the prompts file to `train generate` with their answers, which it keeps as "
                               "meta.reference")
        if answer is None:
            raise RowError("no_answer", "no model answer (no assistant message)", field="messages",
                           fix="the last assistant message is read as the model's answer")
    else:
        ref_key = next((k for k in REF_KEYS if k in row and row[k] is not None), None)
        if ref_key is None:
            raise RowError("no_reference", f"no reference answer (keys: {', '.join(sorted(map(str, row))[:8])})",
                           fix=f"name the reference one of: {', '.join(REF_KEYS)}")
        ans_key = next((k for k in ANSWER_KEYS if k != ref_key and k in row and row[k] is not None), None)
        if ans_key is None:
            raise RowError("no_answer", f"no model answer (keys: {', '.join(sorted(map(str, row))[:8])})",
                           fix=f"name the model's answer one of: {', '.join(k for k in ANSWER_KEYS if k != ref_key)}")
        ref, answer = _text(row[ref_key]), _text(row[ans_key])
        prompt = next((_text(row[k]) for k in PROMPT_KEYS if isinstance(row.get(k), str)), "")
    assert ref is not None and answer is not None
    return Example(id=rid, line=line, prompt=prompt or "", answer=_THINK.sub("", answer, count=1), reference=ref,
                   source=str(meta.get("source") or row.get("source") or source),
                   tags=_tags(meta.get("tags", row.get("tags"))), scores=_scores(meta),
                   task=str(task) if task else None, row=row)
