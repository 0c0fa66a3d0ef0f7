"""`train` — placeholder entry point until the training issue lands."""

from __future__ import annotations

import typer

app = typer.Typer(name="train", add_completion=False, help="Supervised fine-tuning on curated data.")


@app.callback(invoke_without_command=True)
def main() -> None:
    """Not built yet."""
    typer.echo("train: not built yet")
    raise typer.Exit(2)
