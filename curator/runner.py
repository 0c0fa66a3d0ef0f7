"""The plumbing every command shares: rejects, manifest, counts, timing and exit codes.

A command body looks like::

    with CommandRun("filter", out=out, params=params, inputs=inputs, max_error_rate=rate) as run:
        for conv in read_inputs(run, inputs, fmt=None):
            ...
            run.write(conv)          # or run.rejects.reject(conv, code, message)
    raise typer.Exit(run.exit_code)

`CommandRun` counts in / out / rejected (and, for sampling stages, excluded), checks
in == out + rejected + excluded, writes `<out>.rejects.jsonl` and `<out>.manifest.json`, and
turns `UsageError` into exit code 2 with a one-line message instead of a traceback.

Before anything is opened, the output-path guard (`curator.outpaths`) checks `out`, its rejects
and manifest, and every side output the command declares against the inputs and each other, and
temp files a killed run of the same output left behind are removed.

Commit order (safe at every instant of a kill -9; the manifest is the commit record):
1. output and rejects are finished as temp files (fsync'ed, not visible);
2. the old manifest is removed — from here until step 5 no manifest vouches for the files;
3. the rejects file is renamed into place, 4. the output (file rename, or folder swap);
5. the new manifest, holding the committed files' sizes, is written (temp + rename).
A reader trusts an output only when its manifest exists and matches (`manifest.is_committed`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

from curator.termout import err_console
from rich.markup import escape

from curator.errors import UsageError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions
from curator.io import ReadStats, RecordWriter, read_records
from curator.atomic import clean_stale, fsync_dir
from curator.config_check import config_params
from curator.manifest import build_manifest, output_sizes, write_manifest
from curator.outpaths import check_output, check_outputs
from curator.redact import redact_text
from curator.record import Conversation
from curator.rejects import RejectSink, manifest_path, rejects_path


EXIT_OK, EXIT_ERROR_RATE, EXIT_USAGE = 0, 1, 2


def _plain(value: Any) -> Any:
    """A parameter value as JSON can hold it (paths as strings)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def bound_params(skip: Iterable[str] = ("ui_lang", "progress")) -> dict[str, Any]:
    """The parameters of the `curate` command being run, as Click bound them (empty outside one).
    Secrets never appear here: keys are read from environment variables named by options, and the
    manifest passes every value through the one redactor."""
    try:  # recent Typer releases ship their own copy of Click, with its own context stack
        from typer._click.globals import get_current_context
    except ImportError:
        from click import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return {}
    return {k: _plain(v) for k, v in ctx.params.items() if k not in skip}


class CommandRun:
    """One command's bookkeeping. Use as a context manager around the command body."""

    def __init__(
        self,
        command: str,
        *,
        out: str | Path | None,
        params: dict[str, Any],
        inputs: Iterable[str | Path] = (),
        max_error_rate: float | None = None,
        out_format: str = "messages",
        write_opts: WriteOptions = DEFAULT_WRITE,
        quiet: bool = False,
        side_outputs: Iterable[tuple[str, str | Path | None]] = (),
        config: Any = None,
    ):
        self.command = command
        self.out = Path(out) if out is not None else None
        # every option the command was called with, so the manifest is complete by construction
        # (outside a CLI call, e.g. from Python, the validated config's fields instead); the
        # command's own entries (derived values: a resolved cache path, the filter list) win.
        # Secrets are masked when the manifest is built (curator.redact, the one redactor).
        self.params = {**(bound_params() or config_params(config)), **params}
        self.inputs = [Path(p) for p in inputs]
        self._outputs: list[tuple[str, Path | None]] = []
        if self.out is not None:
            check_output("-o", self.out)  # first alone: `-o .` has no name to put a rejects file beside
            self._outputs += [("-o", self.out), ("rejects file", rejects_path(self.out)),
                              ("manifest", manifest_path(self.out))]
        self.guard_outputs(side_outputs)
        if self.out is not None:
            for p in (self.out, rejects_path(self.out), manifest_path(self.out)):
                clean_stale(p)
        self._pending: list[Any] = []  # side writers committed with the output (split's eval/test)
        self.max_error_rate = max_error_rate
        self.quiet = quiet
        self.read_stats = ReadStats()
        self.excluded: Counter[str] = Counter()
        self.added: Counter[str] = Counter()
        self.extra: dict[str, Any] = {}
        self.exit_code = EXIT_OK
        self.rejects = RejectSink(rejects_path(self.out) if self.out else None, stage=command)
        self.writer = RecordWriter(self.out, out_format, opts=write_opts, rejects=self.rejects) if self.out else None
        self._t0 = time.perf_counter()
        self.seconds = 0.0
        self.manifest: dict[str, Any] = {}
        # A progress line over the records read (curator/progress_line.py); generation commands
        # set this False and count finished prompts themselves.
        self.show_progress = True
        self._ticker: Any = None

    # -- the body's API ------------------------------------------------------------------------
    def guard_outputs(self, outputs: Iterable[tuple[str, str | Path | None]]) -> None:
        """Check more outputs (label, path) against the inputs and every output declared so far;
        `UsageError` (exit 2) before anything is written when one clashes."""
        new = [(label, Path(p) if p is not None else None) for label, p in outputs]
        check_outputs(self._outputs + new, self.inputs)
        self._outputs += new
        for _, p in new:  # temp files a killed run left for a side output
            if p is not None:
                clean_stale(p)

    def commit_with_output(self, writer: Any) -> None:
        """A side writer (finished with close(commit=False)) published together with the output,
        before the manifest."""
        self._pending.append(writer)

    def read(self, source: Any, fmt: str | None = None, *, opts: ReadOptions = DEFAULT_READ,
             encoding: str | None = None, allow: Iterable[str] = (), validate: bool = True) -> Iterator[Conversation]:
        """Records of one input; bad rows go to this run's rejects."""
        records = read_records(source, fmt, opts=opts, encoding=encoding, rejects=self.rejects, allow=allow,
                               validate=validate, stats=self.read_stats)
        ticker = self.progress_ticker()
        return records if ticker is None else ticker.wrap(records)

    def read_all(self, inputs: Iterable[str | Path], fmt: str | None = None, *, opts: ReadOptions = DEFAULT_READ,
                 encoding: str | None = None) -> Iterator[Conversation]:
        """Every input in order (a whole-dataset stage's first pass): rows counted, bad rows rejected."""
        for path in inputs:
            yield from self.read(path, fmt, opts=opts, encoding=encoding)

    @staticmethod
    def reread_all(inputs: Iterable[str | Path], fmt: str | None = None, *, opts: ReadOptions = DEFAULT_READ,
                   encoding: str | None = None) -> Iterator[Conversation]:
        """A second pass over inputs `read_all` already read: the same valid records in the same
        order; bad rows are neither counted nor rejected again."""
        quiet = RejectSink(None)
        for path in inputs:
            yield from read_records(path, fmt, opts=opts, encoding=encoding, rejects=quiet)

    def progress_ticker(self) -> Any:
        """The command's progress line (`curator.progress_line.RecordProgress`), started on first
        use; None when progress is off (piped without --progress, or a generation command)."""
        if not self.show_progress:
            return None
        if self._ticker is None:
            from curator.progress_line import RecordProgress, count_rows, enabled

            if not enabled():
                self.show_progress = False
                return None
            self._ticker = RecordProgress(self.command, count_rows(self.inputs))
        return self._ticker

    def write(self, conv: Conversation) -> bool:
        assert self.writer is not None, "this command has no output file"
        return self.writer.write(conv)

    def exclude(self, reason: str, n: int = 1) -> None:
        """Count records left out on purpose (sampling), which are not rejects."""
        self.excluded[reason] += n

    def add_copies(self, reason: str, n: int = 1) -> None:
        """Count extra output records copied from inputs already counted (up-sampling repeats),
        so the balance reads in + copies = out + rejected + excluded."""
        self.added[reason] += n

    @property
    def n_in(self) -> int:
        return self.read_stats.rows

    @property
    def n_out(self) -> int:
        return self.writer.count if self.writer else 0

    # -- context manager -----------------------------------------------------------------------
    def __enter__(self) -> "CommandRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._ticker is not None:
            self._ticker.close()  # the live line goes before any summary or error is printed
        if exc_type is not None:
            if self.writer:
                self.writer.abort()
            self.rejects.abort()
            for w in self._pending:
                w.abort()
            if issubclass(exc_type, UsageError):
                from curator.i18n import tr, usage_sentence

                err_console.print(f"[bold red]{tr('error:')}[/] {escape(redact_text(usage_sentence(str(exc))))}",
                                  soft_wrap=True)
                self.exit_code = EXIT_USAGE
                return True
            if issubclass(exc_type, KeyboardInterrupt):
                from curator.i18n import tr

                err_console.print(tr("interrupted: no output written"))
                self.exit_code = 130
                return True
            return False
        try:
            if self.writer:
                self.writer.close(commit=False)
            self.rejects.close(commit=False)
        except BaseException:
            if self.writer:
                self.writer.abort()
            self.rejects.abort()
            raise
        self.seconds = time.perf_counter() - self._t0
        self._finish()
        return False

    def _finish(self) -> None:
        n_rej = len(self.rejects)
        n_exc = sum(self.excluded.values())
        counts: dict[str, Any] = {
            "in": self.n_in, "out": self.n_out, "rejected": n_rej,
            "rejected_by_reason": dict(sorted(self.rejects.counts.items())),
        }
        if n_exc:
            counts["excluded"] = n_exc
            counts["excluded_by_reason"] = dict(sorted(self.excluded.items()))
        n_add = sum(self.added.values())
        if n_add:
            counts["copies_added"] = n_add
            counts["copies_added_by_reason"] = dict(sorted(self.added.items()))
        # in = out + rejects (+ excluded) — unless a stage makes several records from one, like split.
        counts["balanced"] = self.n_in + n_add == self.n_out + n_rej + n_exc
        rate = n_rej / self.n_in if self.n_in else 0.0
        counts["error_rate"] = round(rate, 6)
        # Every row rejected looks like success from the exit code alone: say so loudly (issue #18);
        # --max-error-rate makes it exit 1. The manifest carries it for scripts.
        self.all_rejected = self.n_in > 0 and self.n_out == 0 and n_rej == self.n_in
        if self.all_rejected:
            counts["all_rejected"] = True
        outputs = {}
        if self.out:
            outputs = {"data": str(self.out), "rejects": str(rejects_path(self.out))}
        self.manifest = build_manifest(
            command=self.command, params=self.params, inputs=self.inputs, outputs=outputs, counts=counts,
            seconds=self.seconds, extra={"formats_detected": self.read_stats.formats, **self.extra},
        )
        if self.out:
            self._commit(outputs)
        else:  # a command with no record output (eval) may still keep rejects: publish them
            self.rejects.commit()
        if self.max_error_rate is not None and rate > self.max_error_rate:
            self.exit_code = EXIT_ERROR_RATE
        if not self.quiet:
            self.print_summary(rate)

    def _commit(self, outputs: dict[str, str]) -> None:
        """Publish rejects, output and side writers, then the manifest last (see the module doc)."""
        assert self.out is not None
        mpath = manifest_path(self.out)
        _commit_point("finished")
        mpath.unlink(missing_ok=True)
        fsync_dir(mpath.parent)
        _commit_point("uncommitted")
        self.rejects.commit()
        _commit_point("rejects")
        if self.writer:
            self.writer.commit()
        _commit_point("output")
        for w in self._pending:
            w.commit()
        fsync_dir(self.out.parent)
        self.manifest["output_sizes"] = output_sizes(outputs)
        write_manifest(mpath, self.manifest)
        fsync_dir(mpath.parent)
        _commit_point("manifest")

    def print_summary(self, rate: float) -> None:
        from curator.i18n import reject_sentence, tr

        for label, fmt in self.read_stats.formats.items():
            err_console.print(f"[dim]{escape(label)}: {tr('detected format')}[/] {fmt}")
        line = tr("{command}: {n_in} in, {n_out} out, {n_rej} rejected", command=self.command, n_in=self.n_in,
                  n_out=self.n_out, n_rej=len(self.rejects))
        if self.excluded:
            line += tr(", {n} excluded", n=sum(self.excluded.values()))
        line += f" ({self.seconds:.2f}s)"
        err_console.print(line)
        for reason, n in self.rejects.counts.most_common():
            first = redact_text(reject_sentence(reason, self.rejects.examples[reason][0]["message"]))
            err_console.print(f"  [yellow]{reason}[/]: {n}  {tr('e.g. {example}', example=escape(first))}", soft_wrap=True)
        if self.out and len(self.rejects):
            err_console.print(tr("  rejects: {path}", path=rejects_path(self.out)), soft_wrap=True)
        if getattr(self, "all_rejected", False):
            err_console.print(f"[bold red]WARNING: every one of the {self.n_in} input rows was rejected — nothing "
                              f"was written; see the reasons above (--max-error-rate 0.99 makes this exit 1)[/]")
        elif self.exit_code == EXIT_ERROR_RATE:
            err_console.print("[bold red]" + tr("error rate {rate} is above --max-error-rate {limit}",
                                                 rate=f"{rate:.1%}", limit=f"{self.max_error_rate:.1%}") + "[/]")


def _commit_point(name: str) -> None:
    """Test hook: SFT_CURATOR_KILL_AT=NAME makes this process SIGKILL itself at that step of the
    commit, so tests can check the files are consistent after a real kill -9 at every step."""
    if os.environ.get("SFT_CURATOR_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def usage_error(message: str) -> None:
    """Print a usage error and exit 2 (for checks made before a CommandRun exists)."""
    from curator.i18n import tr, usage_sentence

    err_console.print(f"[bold red]{tr('error:')}[/] {escape(redact_text(usage_sentence(message)))}", soft_wrap=True)
    sys.exit(EXIT_USAGE)


@contextlib.contextmanager
def usage_guard() -> Iterator[None]:
    """Turn a `UsageError` raised while setting a command up into exit code 2, no traceback."""
    try:
        yield
    except UsageError as e:
        usage_error(str(e))
