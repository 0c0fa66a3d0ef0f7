"""`curate run`: the practice checks a stage changes, printed after the stage ran.

The recipe's top-level `practice:` key turns this off (`false`), names a practice YAML (relative
to the recipe) or holds the same mapping inline; absent, the defaults apply. Only the checks whose
rule lists the stage (`Rule.stages`) are printed — after `mix` the general-data share and badcase
coverage, after `dedup` the duplicates, and so on — and passing checks are summed up in the
count line, so a clean run adds one line per stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.errors import UsageError
from curator.practice.config import PracticeConfig, load_practice_config, practice_config_from
from curator.practice.rules import RULES


def recipe_setting(value: Any, base: Path, where: str) -> PracticeConfig | None:
    """The recipe's `practice:` value as a config (None = off); shape errors are usage errors."""
    if value is False:
        return None
    if value is None or value is True:
        return PracticeConfig()
    if isinstance(value, str):
        p = Path(value)
        return load_practice_config(p if p.is_absolute() else base / p)
    if isinstance(value, dict):
        return practice_config_from(value, base, f"{where}: practice")
    raise UsageError(f"{where}: practice must be false, a YAML file name or a mapping, not {value!r}")


def after_stage(command: str, data: Path | None, cfg: PracticeConfig | None) -> list[str]:
    """Lines to print after stage `command` wrote `data` (nothing when no check depends on it)."""
    if cfg is None or data is None or not Path(data).is_file():
        return []
    if not any(command in r.stages for r in RULES.values()):
        return []
    from curator.practice.dataset import check_file
    from curator.practice.render import lines

    checks = check_file(data, cfg, stage=command)
    if not checks:
        return []
    return lines([c.to_dict() for c in checks], title="practice checks", hide_ok=True)
