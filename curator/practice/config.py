"""Practice-check settings: the rule defaults, overridden from a user YAML file.

The file is read with `yaml.safe_load` (no code runs). Shape::

    task: classification          # copywriting | reference_qa | classification | extraction | general
    complexity: simple            # simple | complex (LoRA rank rule); default: guessed from the data
    general_sources: [general, alpaca_zh]   # meta.source names (shell patterns) that are general data
    label_field: label            # meta.<field> holding the class label (default: the answer itself)
    schema: [name, phone, city]   # extraction: the fields every answer must have
    badcases: badcases.jsonl      # badcase coverage (relative to the YAML file)
    rules:
      general_share: {min: 0.10, max: 0.35}
      data_size: {classification: [500, 2000]}
      reasoning_mix: {allow_mixed: true}
      lora_alpha: false           # turn a check off

Unknown rule ids, unknown threshold keys and values of the wrong type are usage errors naming the
key, so a typo never silently leaves a default in place.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curator.errors import UsageError
from curator.formats.common import suggest
from curator.practice.rules import RULES, TASKS, task_name

_TOP = {"task", "complexity", "general_sources", "label_field", "schema", "badcases", "rules"}


@dataclass
class PracticeConfig:
    task: str | None = None
    complexity: str | None = None
    general_sources: list[str] = field(default_factory=lambda: ["*general*", "*通用*"])
    label_field: str = "label"
    schema: list[str] | None = None
    badcases: str | None = None
    thresholds: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: copy.deepcopy(r.defaults)
                                                                           for k, r in RULES.items()})
    disabled: set[str] = field(default_factory=set)

    def t(self, rule: str) -> dict[str, Any]:
        """The thresholds in force for one rule."""
        return self.thresholds[rule]

    def with_task(self, task: str | None) -> "PracticeConfig":
        """A copy with the task set from a command-line option (checked)."""
        if not task:
            return self
        c = copy.deepcopy(self)
        c.task = _task(task, "--task")
        return c


def _task(value: Any, where: str) -> str:
    t = task_name(str(value))
    if not t:
        raise UsageError(f"{where}: unknown task {value!r} (tasks: {', '.join(TASKS)})")
    return t


def _same_type(default: Any, value: Any, where: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise UsageError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{where}: expected a number, got {value!r}")
        return value
    if isinstance(default, list):
        if (not isinstance(value, list) or len(value) != len(default)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise UsageError(f"{where}: expected a list of {len(default)} numbers like {default}, got {value!r}")
        if list(value) != sorted(value):
            raise UsageError(f"{where}: the range {value} must be [low, high]")
        return list(value)
    return value


def practice_config_from(data: dict[str, Any], base: Path | None = None, where: str = "practice config") -> PracticeConfig:
    """Build and check a config from a mapping (the parsed YAML, or a recipe's `practice:` mapping)."""
    cfg = PracticeConfig()
    unknown = set(data) - _TOP
    if unknown:
        k = sorted(unknown)[0]
        hint = suggest(k, sorted(_TOP))
        raise UsageError(f"{where}: unknown key {k!r}" + (f" — did you mean {hint!r}?" if hint else
                                                          f" (keys: {', '.join(sorted(_TOP))})"))
    if data.get("task") is not None:
        cfg.task = _task(data["task"], f"{where}: task")
    if data.get("complexity") is not None:
        if data["complexity"] not in ("simple", "complex"):
            raise UsageError(f"{where}: complexity must be simple or complex, not {data['complexity']!r}")
        cfg.complexity = data["complexity"]
    if data.get("general_sources") is not None:
        gs = data["general_sources"]
        gs = [gs] if isinstance(gs, str) else gs
        if not isinstance(gs, list) or not all(isinstance(s, str) for s in gs):
            raise UsageError(f"{where}: general_sources must be a list of source names")
        cfg.general_sources = gs
    if data.get("label_field") is not None:
        cfg.label_field = str(data["label_field"])
    if data.get("schema") is not None:
        sc = data["schema"]
        if isinstance(sc, dict):  # an inline JSON Schema: its required fields, else its properties
            sc = sc.get("required") or list((sc.get("properties") or {}).keys())
        if not isinstance(sc, list) or not sc:
            raise UsageError(f"{where}: schema must be a list of field names (or a JSON Schema mapping)")
        cfg.schema = [str(s) for s in sc]
    if data.get("badcases") is not None:
        p = Path(str(data["badcases"]))
        p = p if p.is_absolute() or base is None else base / p
        if not p.is_file():
            raise UsageError(f"{where}: badcases {p}: no such file")
        cfg.badcases = str(p)
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise UsageError(f"{where}: rules must be a mapping of rule id -> thresholds")
    for rid, over in rules.items():
        if rid not in RULES:
            hint = suggest(str(rid), sorted(RULES))
            raise UsageError(f"{where}: unknown rule {rid!r}" + (f" — did you mean {hint!r}?" if hint else
                                                                 f" (rules: {', '.join(RULES)})"))
        if over is False:
            cfg.disabled.add(rid)
            continue
        if over is True or over is None:
            continue
        if not isinstance(over, dict):
            raise UsageError(f"{where}: rules.{rid} must be a mapping of thresholds, or false to turn it off")
        for k, v in over.items():
            if k not in RULES[rid].defaults:
                known = ", ".join(RULES[rid].defaults) or "none"
                raise UsageError(f"{where}: rules.{rid}: unknown threshold {k!r} (thresholds: {known})")
            cfg.thresholds[rid][k] = _same_type(RULES[rid].defaults[k], v, f"{where}: rules.{rid}.{k}")
    return cfg


def load_practice_config(path: str | Path | None) -> PracticeConfig:
    """The defaults, or the defaults overridden by a YAML file (read with yaml.safe_load)."""
    if path is None:
        return PracticeConfig()
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{p}: cannot read the practice config ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: invalid YAML: {str(e).splitlines()[0]}") from None
    if data is None:
        return PracticeConfig()
    if not isinstance(data, dict):
        raise UsageError(f"{p}: the practice config must be a mapping (task:, rules:, ...)")
    return practice_config_from(data, p.parent, str(p))
