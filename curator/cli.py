"""`curate` — the command line. Thin: parse -> call the stage -> write -> exit code.

Each command lives in its own module under `curator/commands/` and exposes
``register(app: typer.Typer)``; this file discovers them, so adding a command never means
editing a shared file. Command modules import their heavy dependencies inside the command
function, keeping `curate --help` fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import curator.commands
from curator import __version__

app = typer.Typer(
    name="curate",
    help="Build clean, balanced SFT datasets: convert, validate, distill, bestofk, filter, dedup, mix, "
    "split, review, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sft-curator {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """sft-curator: quality beats quantity."""
    from curator.redact import install_excepthook

    install_excepthook()


for _mod in sorted(pkgutil.iter_modules(curator.commands.__path__), key=lambda m: m.name):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"curator.commands.{_mod.name}").register(app)
