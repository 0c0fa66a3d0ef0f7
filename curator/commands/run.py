"""`curate run recipe.yaml`: run a recipe's stages in order (see `curator.recipe_run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from curator.termout import console as _console
from rich.markup import escape
from rich.table import Table

from curator.errors import UsageError
from curator.runner import usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        recipe: Path = typer.Argument(..., help="Recipe YAML file."),
        validate_only: bool = typer.Option(False, "--validate", help="Check the recipe (stages, parameters) and exit."),
        start: Optional[str] = typer.Option(None, "--from", help="First stage to run (label, name or number)."),
        until: Optional[str] = typer.Option(None, "--until", help="Last stage to run."),
        force: bool = typer.Option(False, "--force", help="Run every selected stage even when unchanged."),
        workdir: Optional[Path] = typer.Option(None, "--workdir", help="Run folder (default: the recipe's workdir)."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override STAGE.key=value, repeatable "
                                                 "(e.g. --set train.max_steps=5)."),
        plugins: Optional[list[Path]] = typer.Option(None, "--plugins", help="Folder holding your own filter/rubric "
                                                     "functions (module:function), repeatable. Stages never import "
                                                     "from the recipe's or the working folder."),
    ) -> None:
        """Run named stages in order, each writing output, rejects and manifest into a run folder."""
        import os

        from curator import recipe_run
        from curator.plugins import PLUGINS_ENV

        console = _console(stderr=True)
        with usage_guard():
            for d in plugins or []:
                if not d.is_dir():
                    raise UsageError(f"--plugins {d}: no such folder")
            if plugins:
                os.environ[PLUGINS_ENV] = os.pathsep.join([str(d.resolve()) for d in plugins]
                                                          + [x for x in [os.environ.get(PLUGINS_ENV)] if x])
            rec = recipe_run.load_recipe(recipe, workdir)
            recipe_run.apply_overrides(rec, sets or [])
            code = recipe_run.user_code(rec)
            if code:  # say which code of the user's will run, before any of it does
                console.print("user code this recipe imports:\n  " + "\n  ".join(escape(c) for c in code))
            if validate_only:
                problems = recipe_run.validate_recipe(rec)
                if problems:
                    raise UsageError("recipe has problems:\n  " + "\n  ".join(problems))
                console.print(f"{escape(str(recipe))}: {len(rec.stages)} stages OK "
                              f"({', '.join(s.label for s in rec.stages)}); run folder {escape(str(rec.workdir))}")
                raise typer.Exit(0)
            results = recipe_run.run_recipe(rec, start=start, until=until, force=force,
                                            echo=lambda s: console.print(escape(s)))
        table = Table("stage", "status", "in", "out", "rejected", "seconds", title=f"run folder: {rec.workdir}")
        for r in results:
            c = r.counts
            table.add_row(r.stage.label, r.status, str(c.get("in", "")), str(c.get("out", "")),
                          str(c.get("rejected", "")), f"{r.seconds:.1f}")
        console.print(table)
        failed = [r for r in results if r.status == "failed"]
        raise typer.Exit(failed[0].exit_code if failed else 0)
