"""A registered filter built from its name and parameters, every parameter checked against its
annotation, with errors that name the filter, the parameter and a close match.

Kept out of `base` so that importing every filter module (they register on import) needs no import
of the `curator.filters` package from inside it: `base` <- the filter modules <- this module <-
`chain_spec` and the package (no import cycle).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Union

from curator.errors import UsageError
from curator.filters import content, language, length, meta, pii, reasoning, structure, text  # noqa: F401 - register
from curator.filters.base import REGISTRY, Filter, _type_name, suggest


def _check_type(value: Any, tp: Any) -> bool:
    """A small structural check of filter-chain values against the field's annotation."""
    if tp is Any:
        return True
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return any(_check_type(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        return isinstance(value, list) and all(_check_type(v, arg) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True


def build(name: str, params: dict[str, Any] | None, where: str = "") -> Filter:
    """Instantiate a registered filter, with errors that name the filter and parameter."""
    prefix = f"{where}: " if where else ""
    cls = REGISTRY.get(name)
    if cls is None:
        raise UsageError(f"{prefix}unknown filter {name!r}{suggest(name, REGISTRY)} "
                         f"(curate filter --list shows them all)")
    params = dict(params or {})
    if not isinstance(params, dict):
        raise UsageError(f"{prefix}filter {name!r}: parameters must be a mapping, got {params!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key, value in params.items():
        if key not in fields:
            raise UsageError(f"{prefix}filter {name!r} has no parameter {key!r}{suggest(str(key), fields)} "
                             f"(known: {', '.join(sorted(fields))})")
        if not _check_type(value, hints[key]):
            raise UsageError(f"{prefix}filter {name!r}: parameter {key!r} should be {_type_name(hints[key])}, "
                             f"got {value!r}")
    try:
        return cls(**params)
    except UsageError as e:
        raise UsageError(f"{prefix}filter {name!r}: {e}") from None
