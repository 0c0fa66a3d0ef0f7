"""User code named as ``module:function`` (user filters, user rubrics).

Imported with importlib — never eval'ed or exec'ed — so a recipe can only point at code that is
already importable, not carry code of its own.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


def import_callable(spec: str) -> Callable[..., Any]:
    """``pkg.mod:func`` (or ``pkg.mod:Class.method``) -> the callable; ValueError with a readable
    message when the spec is malformed, the module cannot be imported or the name is missing."""
    mod_name, sep, fn_name = spec.partition(":")
    if not sep or not mod_name or not fn_name:
        raise ValueError(f"{spec!r}: expected module:function, e.g. my_filters:no_urls")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise ValueError(f"{spec!r}: cannot import module {mod_name!r} ({e}); is it on PYTHONPATH?") from None
    obj: Any = mod
    for part in fn_name.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{spec!r}: module {mod_name!r} has no function {fn_name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{spec!r}: {fn_name!r} is not callable")
    return obj
