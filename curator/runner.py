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
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

from curator.termout import console as _console
from rich.markup import escape

from curator.errors import UsageError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions
from curator.io import ReadStats, RecordWriter, read_records
from curator.manifest import build_manifest, write_manifest
from curator.record import Conversation
from curator.rejects import RejectSink, manifest_path, rejects_path

err_console = _console(stderr=True)

EXIT_OK, EXIT_ERROR_RATE, EXIT_USAGE = 0, 1, 2


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
    ):
        self.command = command
        self.out = Path(out) if out is not None else None
        self.params = params
        self.inputs = [Path(p) for p in inputs]
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
    def read(self, source: Any, fmt: str | None = None, *, opts: ReadOptions = DEFAULT_READ,
             encoding: str | None = None, allow: Iterable[str] = (), validate: bool = True) -> Iterator[Conversation]:
        """Records of one input; bad rows go to this run's rejects."""
        records = read_records(source, fmt, opts=opts, encoding=encoding, rejects=self.rejects, allow=allow,
                               validate=validate, stats=self.read_stats)
        ticker = self.progress_ticker()
        return records if ticker is None else ticker.wrap(records)

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
            if issubclass(exc_type, UsageError):
                from curator.i18n import tr, usage_sentence

                err_console.print(f"[bold red]{tr('error:')}[/] {escape(usage_sentence(str(exc)))}", soft_wrap=True)
                self.exit_code = EXIT_USAGE
                return True
            if issubclass(exc_type, KeyboardInterrupt):
                from curator.i18n import tr

                err_console.print(tr("interrupted: no output written"))
                self.exit_code = 130
                return True
            return False
        if self.writer:
            self.writer.close()
        self.rejects.close()
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
        outputs = {}
        if self.out:
            outputs = {"data": str(self.out), "rejects": str(rejects_path(self.out))}
        self.manifest = build_manifest(
            command=self.command, params=self.params, inputs=self.inputs, outputs=outputs, counts=counts,
            seconds=self.seconds, extra={"formats_detected": self.read_stats.formats, **self.extra},
        )
        if self.out:
            write_manifest(manifest_path(self.out), self.manifest)
        if self.max_error_rate is not None and rate > self.max_error_rate:
            self.exit_code = EXIT_ERROR_RATE
        if not self.quiet:
            self.print_summary(rate)

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
            first = reject_sentence(reason, self.rejects.examples[reason][0]["message"])
            err_console.print(f"  [yellow]{reason}[/]: {n}  {tr('e.g. {example}', example=escape(first))}", soft_wrap=True)
        if self.out and len(self.rejects):
            err_console.print(tr("  rejects: {path}", path=rejects_path(self.out)), soft_wrap=True)
        if self.exit_code == EXIT_ERROR_RATE:
            err_console.print("[bold red]" + tr("error rate {rate} is above --max-error-rate {limit}",
                                                 rate=f"{rate:.1%}", limit=f"{self.max_error_rate:.1%}") + "[/]")


def usage_error(message: str) -> None:
    """Print a usage error and exit 2 (for checks made before a CommandRun exists)."""
    from curator.i18n import tr, usage_sentence

    err_console.print(f"[bold red]{tr('error:')}[/] {escape(usage_sentence(message))}", soft_wrap=True)
    sys.exit(EXIT_USAGE)


@contextlib.contextmanager
def usage_guard() -> Iterator[None]:
    """Turn a `UsageError` raised while setting a command up into exit code 2, no traceback."""
    try:
        yield
    except UsageError as e:
        usage_error(str(e))
