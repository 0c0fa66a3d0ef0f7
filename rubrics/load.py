"""Turn a `--rubric` argument into a Rubric.

Accepted forms:
- ``rule:NAME`` or a bare rule name (``no_refusal``): a rule with its default parameters;
- a shipped judge name (``helpfulness``) or a judge rubric file (.yaml with ``kind: judge``, .md);
- a recipe file (.yaml with ``gates:`` / ``terms:``): a composite;
- ``rm:PATH_OR_ID``: a local reward model;
- ``py:module:function`` (or ``module:function``): a user function.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rubrics.base import Rubric
from rubrics.composite import CompositeRubric, Term
from rubrics.judge import ChatFn, JudgeRubric, RubricFileError, load_judge_file, resolve_rubric_path
from rubrics.reward_model import RewardModelRubric
from rubrics.rules import RULES, RuleRubric
from rubrics.user import FunctionRubric


class RubricError(ValueError):
    """A rubric argument or recipe is wrong (exit code 2)."""


def load_rubric(ref: str, *, chat: ChatFn | None = None, judge_retries: int = 2, rm_batch_size: int = 8) -> Rubric:
    try:
        return _load(ref, chat=chat, judge_retries=judge_retries, rm_batch_size=rm_batch_size)
    except (RubricFileError, KeyError, ValueError, TypeError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        raise RubricError(f"--rubric {ref}: {msg}") from None


def _load(ref: str, **kw: Any) -> Rubric:
    if ref.startswith("rule:"):
        return RuleRubric(ref[5:])
    if ref in RULES:
        return RuleRubric(ref)
    if ref.startswith("rm:"):
        return RewardModelRubric(ref[3:], batch_size=kw["rm_batch_size"])
    if ref.startswith("py:"):
        return FunctionRubric(ref[3:])
    path = resolve_rubric_path(ref)
    if path is None:
        if Path(ref).is_dir() and (Path(ref) / "config.json").is_file():
            return RewardModelRubric(ref, batch_size=kw["rm_batch_size"])
        if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", ref):
            return FunctionRubric(ref)
        from curator.formats.common import suggest
        from rubrics.judge import shipped_judges

        hint = suggest(ref, [*RULES, *shipped_judges()])
        raise ValueError((f"did you mean {hint!r}? " if hint else "") + "not a rule, shipped rubric, rubric/recipe file, rm:MODEL or module:function "
                         f"(rules: {', '.join(sorted(RULES))})")
    return load_file(path, **kw)


def load_file(path: Path, **kw: Any) -> Rubric:
    if path.suffix == ".md":
        return JudgeRubric(load_judge_file(path), kw.get("chat"), retries=kw.get("judge_retries", 2))
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise RubricFileError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise RubricFileError(f"{path}: expected a mapping")
    if data.get("kind") == "judge" or "prompt" in data:
        return JudgeRubric(load_judge_file(path), kw.get("chat"), retries=kw.get("judge_retries", 2))
    if "gates" in data or "terms" in data:
        return recipe_from_dict(data, base=path.parent, default_name=path.stem, **kw)
    raise RubricFileError(f"{path}: neither a judge rubric (kind: judge, prompt:) nor a recipe (gates:, terms:)")


_KINDS = ("rule", "judge", "reward_model", "function")


def component(spec: dict[str, Any], base: Path, **kw: Any) -> Rubric:
    kinds = [k for k in _KINDS if k in spec]
    if len(kinds) != 1:
        raise RubricFileError(f"each gate/term names exactly one of {', '.join(_KINDS)}: {spec}")
    kind = kinds[0]
    params = spec.get("params") or {}
    name = spec.get("name")
    if kind == "rule":
        return RuleRubric(spec["rule"], params, name=name)
    if kind == "function":
        return FunctionRubric(spec["function"], params, name=name)
    if kind == "reward_model":
        ref = str(spec["reward_model"])
        local = base / ref
        return RewardModelRubric(str(local) if local.exists() else ref, name=name or "reward",
                                 batch_size=int(params.get("batch_size", kw.get("rm_batch_size", 8))),
                                 pass_at=params.get("pass_at"))
    ref = str(spec["judge"])
    p = resolve_rubric_path(str(base / ref)) or resolve_rubric_path(ref)
    if p is None:
        raise RubricFileError(f"judge rubric {ref!r} not found (a file path, or a shipped rubric name)")
    j = JudgeRubric(load_judge_file(p), kw.get("chat"), retries=kw.get("judge_retries", 2))
    if name:
        j.name = name
    return j


def recipe_from_dict(data: dict[str, Any], *, base: Path = Path("."), default_name: str = "composite", **kw: Any) -> CompositeRubric:
    gates = [component(g, base, **kw) for g in data.get("gates") or []]
    terms = []
    for t in data.get("terms") or []:
        w = float(t.get("weight", 1.0))
        if w <= 0:
            raise RubricFileError(f"term weight must be > 0: {t}")
        terms.append(Term(component(t, base, **kw), w))
    names = [r.name for r in gates] + [t.rubric.name for t in terms]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise RubricFileError(f"component names must be unique (add name: to tell them apart): {sorted(dup)}")
    return CompositeRubric(str(data.get("name") or default_name), gates, terms,
                           normalize=str(data.get("normalize", "none")), min_value=data.get("min_value"))


def judges_in(rubric: Rubric) -> list[JudgeRubric]:
    return [r for r in rubric.components() if isinstance(r, JudgeRubric)]
