"""Run the data checks on a dataset file: one streaming pass for the statistics, and a second one
over the data only when a badcase file asks for coverage. Used by `curate report` (sharing the
report's pass and near-duplicate sketches), by `curate run` after the stages that change the
checks, and by `train --check`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from curator.errors import UsageError
from curator.practice.checks import Check, data_checks, summary
from curator.practice.config import PracticeConfig
from curator.practice.check_facts import PracticeFacts
from curator.practice.rules import RULES, TASK_NAMES
from curator.practice.task import detect_task
from curator.record import Conversation


def read_quietly(path: str | Path, fmt: str | None = None, encoding: str | None = None,
                 rejects: Any = None) -> Iterator[Conversation]:
    """The valid records of a file. Invalid rows go to `rejects` (default: counted nowhere — they
    are the job of the command that wrote the file, and the report counts its own)."""
    from curator.io import read_records
    from curator.rejects import RejectSink

    sink = rejects if rejects is not None else RejectSink(None, stage="practice")  # an empty sink is falsy
    yield from read_records(path, fmt, encoding=encoding, rejects=sink, allow=("no_assistant",))


def badcase_checks(cfg: PracticeConfig, data: str | Path, fmt: str | None = None,
                   encoding: str | None = None) -> list[Check]:
    """Badcase coverage of `data` when the config names a badcase file (else nothing)."""
    if not cfg.badcases or "badcase_coverage" in cfg.disabled:
        return []
    from curator.practice.checks import badcase_coverage
    from curator.practice.coverage import near_coverage

    from curator.rejects import RejectSink

    if not Path(cfg.badcases).is_file():
        raise UsageError(f"badcases {cfg.badcases}: no such file")
    sink = RejectSink(None, stage="practice")
    bad = list(read_quietly(cfg.badcases, rejects=sink))
    cov = near_coverage(bad, read_quietly(data, fmt, encoding), cfg.t("badcase_coverage")["threshold"])
    check = badcase_coverage(cov, cfg, str(cfg.badcases))
    if len(sink):  # said, not dropped silently: these badcases were not compared
        first = next(iter(sink.examples.values()))[0]["message"]
        check.details.insert(0, f"{len(sink)} unreadable row(s) in {cfg.badcases} not compared, e.g. {first}")
    return [check]


def finish(st: PracticeFacts, cfg: PracticeConfig, path: str | Path, fmt: str | None = None,
           encoding: str | None = None, lang: str = "en") -> dict[str, Any]:
    """The report's `practice` entry: the task guess, the counts by status and every check."""
    checks = data_checks(st, cfg) + badcase_checks(cfg, path, fmt, encoding)
    task, why = detect_task(st)
    return {"task": {"id": task, "name": TASK_NAMES[lang][task], "why": why}, "summary": summary(checks),
            "checks": [c.to_dict(lang) for c in checks]}


def check_file(path: str | Path, cfg: PracticeConfig | None = None, *, fmt: str | None = None,
               stage: str | None = None) -> list[Check]:
    """Read one dataset file (streaming) and run the data checks on it. `stage`: keep only the
    checks that a pipeline stage of that command changes (`curate run`)."""
    cfg = cfg or PracticeConfig()
    st = PracticeFacts(cfg)
    for conv in read_quietly(path, fmt):
        st.add(conv)
    checks = data_checks(st, cfg) + badcase_checks(cfg, path, fmt)
    if stage:
        checks = [c for c in checks if stage in RULES[c.id].stages]
    return checks
