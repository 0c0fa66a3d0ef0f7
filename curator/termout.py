"""Consoles for what commands print: terminal width on a terminal, full-width lines when piped.

Rich falls back to 80 columns when its stream is not a terminal, which wraps summary lines and
truncates table cells (`alpaca_z…`, a reject's line number cut off) in logs and CI output.
Piped, we give Rich a width no line reaches, so each line is printed whole and tables are as
wide as their content. `COLUMNS` set by the user still wins.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

PIPED_WIDTH = 10_000


def console(*, stderr: bool = False, **kw) -> Console:
    """A Rich console for stdout (or stderr): no syntax highlighting, full-width when piped."""
    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not os.environ.get("COLUMNS") and not _isatty(stream):
        width = PIPED_WIDTH
    return Console(stderr=stderr, highlight=False, width=width, **kw)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# The one stderr console: every message, summary and the live progress line go through it, so the
# line is cleared before anything else is printed. Here, not in `curator.runner`, so that
# `curator.progress_line` can use it without importing the runner that imports it.
err_console = console(stderr=True)
