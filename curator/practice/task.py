"""Which kind of task a data set is, for the data-size and LoRA-rank rules.

Order of evidence: the user's `--task` / `task:`; then ``meta.task`` tags when most records carry
a known one; then the shape of the data:

- *extraction*: at least 60% of the answers are JSON objects;
- *classification*: at least 80% of the records have a label (a short one-line answer or
  ``meta.label``) and the labels are few (at most 100, and at most a fifth of the records);
- *reference_qa*: at least 30% of the prompts carry reference material ("根据以下资料", "based on
  the following passage", ...) and prompts are at least twice as long as answers;
- *copywriting*: at least 30% of the prompts ask for copy, scripts or stories ("文案", "脚本",
  "slogan", ...);
- otherwise *general*, where no size rule applies.

The guess and the reason for it are printed with the checks, so a wrong guess is seen and fixed
with `--task`.
"""

from __future__ import annotations

from curator.practice.check_facts import PracticeFacts
from curator.practice.rules import task_name


def detect_task(st: PracticeFacts) -> tuple[str, str]:
    """(task, why) for the data in `st`."""
    if st.cfg.task:
        return st.cfg.task, "given"
    n = st.records
    if not n:
        return "general", "no records"
    tags = st.task_tags.top(1)
    if tags:
        tag, count = tags[0]
        t = task_name(str(tag))
        if t and count >= 0.5 * n:
            return t, f"meta.task = {tag} on {count / n:.0%} of records"
    answers = max(st.answers, 1)
    if st.json_answers >= 0.6 * answers and st.answers:
        return "extraction", f"{st.json_answers / answers:.0%} of answers are JSON objects"
    distinct = len(st.labels.counts)
    if st.labelled >= 0.8 * n and 2 <= distinct <= min(100, max(2, n // 5)):
        return "classification", f"{st.labelled / n:.0%} of answers are one of {distinct} short labels"
    if st.reference_prompts >= 0.3 * n and st.prompt_chars >= 2 * st.answer_chars:
        return "reference_qa", f"{st.reference_prompts / n:.0%} of prompts carry reference material"
    if st.creative_prompts >= 0.3 * n:
        return "copywriting", f"{st.creative_prompts / n:.0%} of prompts ask for copy, scripts or stories"
    return "general", "no task-specific pattern"


def detect_complexity(st: PracticeFacts | None, task: str, given: str | None) -> tuple[str, str]:
    """simple | complex, for the LoRA rank rule: a set where at least half the records carry
    reasoning or tool calls is complex; anything else is simple unless the user says otherwise
    (plain multi-turn chat is not counted as complex: it would ask for rank 256+ on ordinary chat)."""
    if given:
        return given, "given"
    if st is not None and st.records:
        for what, n in (("reasoning", st.with_reasoning), ("tool-calling", st.tool_calling)):
            if n >= 0.5 * st.records:
                return "complex", f"{n / st.records:.0%} of records are {what}"
    return "simple", f"{task} task" if task != "general" else "no reasoning or tool-calling majority"
