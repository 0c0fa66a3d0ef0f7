"""`curate` — the command line. Thin: parse -> call the stage -> write -> exit code.

Each command lives in its own module under `curator/commands/` and exposes
``register(app: typer.Typer)``; this file discovers them, so adding a command never means
editing a shared file. Command modules import their heavy dependencies inside the command
function, keeping `curate --help` fast.
"""

from __future__ import annotations

import os

from typing import Any, Optional

import typer
from typer.core import TyperGroup

from curator import __version__, i18n
from curator.commands import register_all


def _set_ui_lang(value: Optional[str]) -> Optional[str]:
    if value is not None:
        try:
            i18n.set_lang(value)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
    return value


_UI_LANG_HELP = ("Language of messages, the review app and the report: en or zh (default: zh when the locale "
                 "LANG/LC_ALL is zh_*, else en). Reason codes, files and lines never change.")


def _set_progress(value: Optional[bool]) -> Optional[bool]:
    if value is not None:
        os.environ["CURATE_PROGRESS"] = "1" if value else "0"  # stages of `curate run` inherit it
    return value


def _progress_option() -> Any:
    probe = typer.Typer()

    @probe.command()
    def _probe(progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", callback=_set_progress,
                                                       help="Progress line on stderr (records, rate, ETA). "
                                                       "Default: on a terminal only; --progress also when piped.")
               ) -> None:
        pass

    opt = next(p for p in typer.main.get_command(probe).params if p.name == "progress")
    opt.expose_value = False
    return opt


def _ui_lang_option() -> Any:
    """The `--ui-lang` parameter object, built by Typer itself from a one-option command."""
    probe = typer.Typer()

    @probe.command()
    def _probe(ui_lang: Optional[str] = typer.Option(None, "--ui-lang", metavar="en|zh", is_eager=True,
                                                     callback=_set_ui_lang, help=_UI_LANG_HELP)) -> None:
        pass

    opt = next(p for p in typer.main.get_command(probe).params if p.name == "ui_lang")
    opt.expose_value = False  # commands never see it: the callback has already set the language
    return opt


class _Group(TyperGroup):
    """Gives every command `--ui-lang` and `--progress/--no-progress`, so no command module has to."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None and not any(p.name == "ui_lang" for p in cmd.params):
            cmd.params.append(_ui_lang_option())
        if cmd is not None and not any(p.name == "progress" for p in cmd.params):
            cmd.params.append(_progress_option())  # distill declares its own
        return cmd

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ImportError as e:  # an optional extra is not installed: say which, in one line
            from curator.extras import missing_extra_message
            from curator.runner import usage_error

            msg = missing_extra_message(e, f"curate {ctx.invoked_subcommand or ''}".strip())
            if msg is None:
                raise
            usage_error(msg)

app = typer.Typer(
    name="curate",
    cls=_Group,
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
                                      help="Print the version and exit."),
         ui_lang: Optional[str] = typer.Option(None, "--ui-lang", metavar="en|zh", callback=_set_ui_lang, help=_UI_LANG_HELP),
         ) -> None:
    """sft-curator: quality beats quantity."""
    from curator.redact import install_excepthook

    install_excepthook()


def _invoked_command() -> str | None:
    """The command of `curate COMMAND ...` (or `python -m curator COMMAND ...`) when this process
    was started to run it: then only that command's module is imported. The others pull in their
    own dependencies (asyncio, the HTTP stack, rich tables: ~0.1 s), which is start-up time every
    `curate convert` would pay. None — register them all — for `curate --help`, an option before
    the command, or this module imported from Python (tests, the API)."""
    import sys
    from pathlib import Path

    from curator.commands import command_names

    prog = Path(sys.argv[0])
    started_as_cli = prog.name == "curate" or (prog.name == "__main__.py" and prog.parent.name == "curator")
    if started_as_cli and len(sys.argv) > 1 and sys.argv[1] in command_names():
        return sys.argv[1]
    return None


register_all(app, only=_invoked_command())
