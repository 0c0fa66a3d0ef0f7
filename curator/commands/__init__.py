"""One module per `curate` command; each defines ``register(app)``. See `curator.cli`."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Iterable


def command_names() -> list[str]:
    """The command modules, in name order (each registers the command of its name)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def register_all(app: Any, skip: Iterable[str] = (), only: str | None = None) -> None:
    """Register every command module on a Typer `app`, in name order. `curator.cli` registers them
    all; the recipe runner builds its own app without `run` (the stage commands' parameters are all
    it reads), so `curator.recipe_run` imports neither the CLI nor the command that imports it.
    `only`: just that command (a process that runs one command imports only its module)."""
    skipped = set(skip)
    for name in command_names():
        if name not in skipped and (only is None or name == only):
            importlib.import_module(f"{__name__}.{name}").register(app)
