"""`curate review FILE` (interactive) and `curate review export FILE --accepted A --badcases B`.

Textual is imported only inside the command (through `curator.review.app`), so `curate --help`
and every other command work without the `[review]` extra installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curator.runner import CommandRun, usage_guard, usage_error

_HELP = """Review a dataset or a queue (rejects, dedup clusters, conflict groups, best-of-K badcases,
model outputs) in the terminal; every decision is saved at once to FILE.review.sqlite.

curate review FILE [--queue status=pending|reason=CODE|tag=NAME] [--tags tags.yaml] [--editor]

curate review export FILE --accepted OUT.jsonl [--badcases BAD.jsonl]

curate review --compare A.jsonl B.jsonl [--annotator NAME]   (blind A/B; results: curate eval --arena DB)
"""


def register(app: typer.Typer) -> None:
    @app.command(help=_HELP)
    def review(
        target: str = typer.Argument(..., metavar="FILE | export", help="The file to review, or 'export'."),
        file: Optional[Path] = typer.Argument(None, metavar="[FILE]", help="With 'export': the reviewed file."),
        queue: Optional[str] = typer.Option(None, "--queue", help="Show only status=pending|accepted|rejected, "
                                            "reason=CODE or tag=NAME."),
        tags: Optional[Path] = typer.Option(None, "--tags", help="YAML with quick tags (keys 1-9) and reject "
                                            "reasons: a list, or {tags: [...], reasons: [...]}."),
        editor: bool = typer.Option(False, "--editor", help="Edit messages in $EDITOR instead of the in-app editor."),
        db: Optional[Path] = typer.Option(None, "--db", help="Decision store (default FILE.review.sqlite)."),
        accepted: Optional[Path] = typer.Option(None, "--accepted", help="export: where accepted records go."),
        badcases: Optional[Path] = typer.Option(None, "--badcases", help="export: where rejected records go, "
                                                "with meta.review.reason and tags."),
        compare: bool = typer.Option(False, "--compare", help="Blind A/B of two answer files: FILE is A, the second "
                                     "FILE is B; decisions go to --db (default A.vs.B.arena.sqlite)."),
        annotator: Optional[str] = typer.Option(None, "--annotator", help="--compare: your name on each decision "
                                                "(default $USER)."),
    ) -> None:
        from curator.errors import UsageError

        if compare:
            from curator.review.arena_cli import compare_command

            raise typer.Exit(compare_command(Path(target), file, db, annotator))

        is_export = target == "export" and not (Path(target).exists() and file is None)
        path = file if is_export else Path(target)
        if is_export:
            if file is None:
                usage_error("curate review export FILE --accepted OUT.jsonl [--badcases BAD.jsonl]: FILE is missing")
            if accepted is None:
                usage_error("curate review export needs --accepted OUT.jsonl")
        elif file is not None:
            usage_error(f"unexpected argument {file} (to export: curate review export {target} --accepted OUT.jsonl)")
        elif accepted or badcases:
            usage_error("--accepted/--badcases belong to: curate review export FILE --accepted OUT.jsonl")
        assert path is not None
        with usage_guard():
            if not path.exists():
                raise UsageError(f"{path}: no such file")
            from curator.review.session import ReviewSession

            session = ReviewSession(path, db=db)
        from curator.runner import err_console

        for w in session.warnings:  # the file changed under its decisions: say so before anything else
            err_console.print(f"[bold yellow]warning:[/] {w}")
        if is_export:
            _export(session, path, accepted, badcases, db)
            return
        with usage_guard():
            from curator.review.config import load_config

            config = load_config(tags)
            if queue:
                session.set_filter(queue)
        try:
            from curator.review.app import ReviewApp
        except ImportError:
            usage_error("curate review needs Textual: pip install 'sft-curator[review]'")
        try:
            ReviewApp(session, config, use_editor=editor).run()
        finally:
            session.close()


def _export(session, path: Path, accepted: Path, badcases: Optional[Path], db: Optional[Path]) -> None:
    from curator.review.export import export

    params = dict(file=str(path), accepted=str(accepted), badcases=str(badcases) if badcases else None,
                  db=str(session.store.path))
    with usage_guard():
        run = CommandRun("review-export", out=accepted, params=params, inputs=[path],
                         side_outputs=[("--badcases", badcases), ("--db", session.store.path)])
    with run:
        counts = export(run, session, badcases)
        # the badcase count, not overwritten by the file name (which has its own key)
        run.extra["review"] = {**counts, "decisions_db": str(session.store.path),
                               "badcases_file": str(badcases) if badcases else None}
    session.close()
    raise typer.Exit(run.exit_code)
