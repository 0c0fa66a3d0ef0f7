"""Filter-chain specs: which filters run, in which order, with which parameters — the (name, params)
items `build_chain` (curator/filters/__init__.py) turns into a `FilterChain` (chain.py).

A filter-chain file is YAML (read with ``yaml.safe_load``), a list of one-key mappings::

    - length: {roles: [assistant], max_chars: 8000}
    - language: {allowed: [zh, en]}
    - refusal: {action: drop}
    - score: {key: helpfulness, min: 3}

A bare name (``- placeholder``) uses the defaults. The same filter may appear twice (say, two
`length` entries for different roles); the second is labelled ``length#2`` in counts.
Without a file, `DEFAULT_CHAIN` runs: checks that are safe on any SFT set.

Users name the file with `curate filter --recipe` (and the `recipe:` key of a `curate run` filter
stage): that word stays for their scripts, and so do the error messages that echo it ("no such
recipe file"). In code a "recipe" is only the `curate run` YAML (CONTRIBUTING.md, "Words we use").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.errors import UsageError
from curator.filters.base import Filter
from curator.filters.from_params import build

ChainItem = tuple[str, dict[str, Any]]

# Safe on any chat/SFT set: nothing here drops a short-but-good answer. Language, PII and score
# filters change what a set means, so they run only when asked for.
DEFAULT_CHAIN: list[ChainItem] = [
    ("turns", {}),
    ("empty_answer", {}),
    ("reasoning", {}),
    ("length", {}),
    ("bad_text", {}),
    ("placeholder", {}),
    ("code_fence", {}),
    ("answer_match", {}),
    ("refusal", {}),
    ("repetition", {}),
]


def parse_chain(data: Any, where: str = "filters") -> list[ChainItem]:
    if isinstance(data, dict) and "filters" in data and len(data) == 1:
        data = data["filters"]
    if not isinstance(data, list):
        raise UsageError(f"{where}: expected a list of filters such as '- length: {{max_chars: 8000}}', "
                         f"got {type(data).__name__}")
    items: list[ChainItem] = []
    for n, entry in enumerate(data, 1):
        if isinstance(entry, str):
            items.append((entry, {}))
            continue
        if not isinstance(entry, dict) or len(entry) != 1:
            raise UsageError(f"{where}: item {n}: expected one '- name: {{params}}' mapping, got {entry!r}")
        ((name, params),) = entry.items()
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise UsageError(f"{where}: item {n} ({name}): parameters must be a mapping, got {params!r}")
        items.append((str(name), dict(params)))
    return items


def load_chain(path: str | Path) -> list[ChainItem]:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such recipe file")
    try:
        data = yaml.safe_load(p.read_text("utf-8"))
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: not valid YAML: {e}") from None
    return parse_chain(data, str(p))


def set_param(items: list[ChainItem], name: str, **params: Any) -> None:
    """Merge CLI flags into the first entry of a filter, adding the filter when absent."""
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        return
    for n, p in items:
        if n == name:
            p.update(params)
            return
    items.append((name, params))


def build_filters(items: list[ChainItem], where: str = "filters") -> list[tuple[str, Filter]]:
    out = []
    for n, (name, params) in enumerate(items, 1):
        out.append((name, build(name, params, f"{where}: item {n}")))
    return out
