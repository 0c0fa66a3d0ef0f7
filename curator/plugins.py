"""User code named as ``module:function`` (user filters, user rubrics).

Imported with importlib — never eval'ed or exec'ed — so a recipe can only point at code that is
already importable, not carry code of its own. Where it is imported from is what the user named:
their PYTHONPATH, or the folders in ``CURATOR_PLUGINS`` (set by ``curate run --plugins DIR``);
`curate run` never puts the recipe's or the working folder on the import path.

A function from Python's standard library (``os:system``, ``subprocess:run``, ``builtins:eval``)
or any built-in is refused: those are not user code, and calling them with a record as argument
could run commands.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
from typing import Any, Callable, Iterator

PLUGINS_ENV = "CURATOR_PLUGINS"


def plugin_dirs() -> list[str]:
    """Folders named by the user for their functions (``CURATOR_PLUGINS``, os.pathsep-separated)."""
    return [d for d in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if d]


@contextlib.contextmanager
def _plugin_path() -> Iterator[None]:
    dirs = [os.path.abspath(d) for d in plugin_dirs() if os.path.isdir(d)]
    if not dirs:
        yield
        return
    sys.path[:0] = dirs
    try:
        yield
    finally:
        for d in dirs:
            with contextlib.suppress(ValueError):
                sys.path.remove(d)


def _stdlib(mod_name: str) -> bool:
    top = mod_name.split(".", 1)[0]
    names = getattr(sys, "stdlib_module_names", frozenset())
    return top in names or top in sys.builtin_module_names


def import_callable(spec: str) -> Callable[..., Any]:
    """``pkg.mod:func`` (or ``pkg.mod:Class.method``) -> the callable; ValueError with a readable
    message when the spec is malformed, names standard-library code, the module cannot be imported
    or the name is missing."""
    mod_name, sep, fn_name = spec.partition(":")
    if not sep or not mod_name or not fn_name:
        raise ValueError(f"{spec!r}: expected module:function, e.g. my_filters:no_urls")
    if _stdlib(mod_name):
        raise ValueError(f"{spec!r}: {mod_name!r} is part of Python itself, not user code; name a function in "
                         f"your own module")
    try:
        with _plugin_path():
            mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise ValueError(f"{spec!r}: cannot import module {mod_name!r} ({e}); is it on PYTHONPATH (or in a "
                         f"--plugins folder)?") from None
    obj: Any = mod
    for part in fn_name.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{spec!r}: module {mod_name!r} has no function {fn_name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{spec!r}: {fn_name!r} is not callable")
    if inspect.isbuiltin(obj) or _stdlib(getattr(obj, "__module__", None) or mod_name):
        raise ValueError(f"{spec!r}: {fn_name!r} comes from Python itself ({getattr(obj, '__module__', '?')}), "
                         f"not user code; write your own function")
    return obj
