"""Error types shared by every stage.

`RowError` is a problem with one input row: it never stops a run, the row goes to the rejects.
`UsageError` is a problem with the command itself (bad flag, unreadable file): exit code 2,
a one-line message, no traceback.
"""

from __future__ import annotations


class RowError(Exception):
    """One row is unusable. `code` is machine-readable, `message` is a sentence for a person."""

    def __init__(self, code: str, message: str, *, field: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.fix = fix

    def sentence(self) -> str:
        """The message with the suggested fix appended, as shown to users."""
        return f"{self.message} — {self.fix}" if self.fix else self.message


class UsageError(Exception):
    """The command cannot run at all (exit code 2)."""
