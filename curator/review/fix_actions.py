"""The review screen's fix actions, kept apart from app.py (a shared file): `x` applies the fix the
reader's message suggests to an invalid row, `E` edits the whole row as JSON. Both validate before
saving (`curator.review.fixes`): an invalid edit is refused with the reason and reopened, so what
is saved always reads back in the next command."""

from __future__ import annotations

from curator.i18n import tr
from curator.review.screens import EditScreen


class FixActions:
    """Mixed into the review screen, which provides `session`, `rl`, `sel`, `notify_text`, `refresh_all`."""

    def action_fix(self) -> None:
        idx = self.rl.current  # type: ignore[attr-defined]
        if idx is None:
            return
        mi = self.sel[0]  # type: ignore[attr-defined]
        fix = self.session.suggested_fix(idx, mi)  # type: ignore[attr-defined]
        if fix is None:
            self.notify_text(tr("no one-key fix for this row (it is valid, or the message suggests none): "  # type: ignore[attr-defined]
                                "press E to edit it as JSON"), "warning")
            return
        what, row = fix
        import orjson

        problem = self.session.edit_raw(idx, mi, orjson.dumps(row, option=orjson.OPT_INDENT_2).decode())  # type: ignore[attr-defined]
        if problem is not None:  # cannot happen: suggest_fix validated it; say so rather than hide it
            self.notify_text(tr("fix not saved: {problem}", problem=problem), "error")  # type: ignore[attr-defined]
            return
        self.notify_text(tr("fixed: {what}", what=what))  # type: ignore[attr-defined]
        self.refresh_all()  # type: ignore[attr-defined]

    def action_edit_raw(self, text: str | None = None) -> None:
        idx = self.rl.current  # type: ignore[attr-defined]
        if idx is None:
            return
        mi = self.sel[0]  # type: ignore[attr-defined]
        shown = text if text is not None else self.session.raw_text(idx, mi)  # type: ignore[attr-defined]

        def done(new: str | None) -> None:
            if new is None or new == self.session.raw_text(idx, mi):  # type: ignore[attr-defined]
                return
            problem = self.session.edit_raw(idx, mi, new)  # type: ignore[attr-defined]
            if problem is not None:
                self.notify_text(tr("not saved — {problem}", problem=problem), "error")  # type: ignore[attr-defined]
                self.app.call_later(self.action_edit_raw, new)  # type: ignore[attr-defined]
                return
            self.notify_text(tr("row saved (valid)"))  # type: ignore[attr-defined]
            self.refresh_all()  # type: ignore[attr-defined]

        self.app.push_screen(EditScreen(tr("edit row {n} as JSON (validated on save)", n=idx + 1), shown), done)  # type: ignore[attr-defined]
