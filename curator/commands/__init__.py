"""One module per `curate` command; each defines ``register(app)``. See `curator.cli`."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Iterable


def register_all(app: Any, skip: Iterable[str] = ()) -> None:
    """Register every command module on a Typer `app`, in name order. `curator.cli` registers them
    all; the recipe runner builds its own app without `run` (the stage commands' parameters are all
    it reads), so `curator.recipe_run` imports neither the CLI nor the command that imports it."""
    skipped = set(skip)
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not mod.name.startswith("_") and mod.name not in skipped:
            importlib.import_module(f"{__name__}.{mod.name}").register(app)
