"""The Textual app: a virtual record list, a detail pane, and the review keys.

The list is a Line-API `ScrollView`: it renders only the rows on screen from the session's view
(a numpy array of row positions), so a 1M-row file costs no more widgets than a 10-row one.
Every key calls `ReviewSession`, which commits the decision to SQLite before the screen changes.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Static

from curator.errors import UsageError
from curator.i18n import is_zh, tr
from curator.review import render
from curator.review.config import ReviewConfig
from curator.review.fix_actions import FixActions
from curator.review.safe_text import one_line, safe, visible
from curator.review.screens import (MODAL_CSS, ChoiceScreen, ConfirmScreen, EditScreen, HelpScreen, PromptScreen,
                                    localized)
from curator.review.session import ReviewSession


class CursorMoved(Message):
    """The list cursor moved: the detail pane follows."""


class RecordList(ScrollView, can_focus=True):
    """Virtual list of the session's view; `cursor` is a position in the view."""

    BINDINGS = [
        Binding("j,down", "move(1)", "Down", show=False), Binding("k,up", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", show=False), Binding("pageup", "page(-1)", show=False),
        Binding("g,home", "first", "First", show=False), Binding("G,end", "last", "Last", show=False),
    ]

    def __init__(self, session: ReviewSession, **kw):
        super().__init__(**kw)
        self.session = session
        self.cursor = 0

    def reset(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.session.view))
        self.cursor = min(self.cursor, max(0, len(self.session.view) - 1))
        self.refresh()

    def on_mount(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.session.view))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.session.view))

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if row >= len(self.session.view):
            return Strip.blank(width, style)
        idx = int(self.session.view[row])
        item = self.session.item(idx)
        text = render.list_row(item, self.session.state(idx), self.session.reason(idx), width)
        if row == self.cursor:
            text.stylize("reverse" if self.has_focus else "underline")
        strip = Strip(text.render(self.app.console), text.cell_len)
        return strip.crop_extend(0, width, style)

    def move_to(self, pos: int) -> None:
        n = len(self.session.view)
        if not n:
            return
        self.cursor = max(0, min(n - 1, pos))
        # Rows actually visible: the content region less any scrollbar (size.height counted the
        # horizontal bar's row, so a search could land one row below the list).
        h = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + h:
            self.scroll_to(y=self.cursor - h + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(CursorMoved())

    def action_move(self, d: int) -> None:
        self.move_to(self.cursor + d)

    def action_page(self, d: int) -> None:
        self.move_to(self.cursor + d * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self.session.view) - 1)

    @property
    def current(self) -> int | None:
        v = self.session.view
        return int(v[self.cursor]) if len(v) and self.cursor < len(v) else None


class ReviewScreen(FixActions, Screen):
    BINDINGS = [
        Binding("a", "accept", "Accept"), Binding("r", "reject", "Reject"), Binding("e", "edit", "Edit"),
        Binding("x", "fix", "Fix"), Binding("E", "edit_raw", "Edit JSON", show=False),
        Binding("t", "tag", "Tag"), Binding("u", "undo", "Undo"), Binding("slash", "search", "Search"),
        Binding("n", "search_next(1)", "Next match"), Binding("N", "search_next(-1)", "Prev match", show=False),
        Binding("f", "filter", "Filter"), Binding("p", "next_pending", "Next pending"),
        Binding("A", "bulk('accept')", "Accept shown"), Binding("R", "bulk('reject')", "Reject shown", show=False),
        Binding("left_square_bracket", "select(-1)", "Prev msg", show=False),
        Binding("right_square_bracket", "select(1)", "Next msg", show=False),
        Binding("z", "toggle_reasoning", "Reasoning", show=False),
        Binding("J", "scroll_detail(1)", show=False), Binding("K", "scroll_detail(-1)", show=False),
        Binding("question_mark", "help", "Help"), Binding("q", "quit", "Quit"),
        *[Binding(str(i), f"quick_tag({i})", show=False) for i in range(1, 10)],
    ]

    def __init__(self, session: ReviewSession, config: ReviewConfig, use_editor: bool = False):
        super().__init__()
        self.session = session
        self.config = config
        self.use_editor = use_editor
        self.query_text = ""
        self.show_reasoning = False
        self.sel: tuple[int, int] = (0, 0)
        self._sel_for: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield RecordList(self.session, id="list")
        with VerticalScroll(id="detail-scroll"):
            yield Static(id="detail")
        yield Footer()

    @property
    def rl(self) -> RecordList:
        return self.query_one(RecordList)

    def on_mount(self) -> None:
        self.rl.focus()
        self.rl.move_to(self.session.first_pending())
        self.refresh_all()
        for w in getattr(self.session, "warnings", []):  # the file changed under its decisions
            self.notify(w, severity="warning", timeout=15)

    # -- display -------------------------------------------------------------------------------
    def _default_sel(self, idx: int) -> tuple[int, int]:
        conv = self.session.conversation(idx, 0)
        if conv is None:
            return (0, 0)
        last = conv.last_index("assistant")
        return (0, last if last is not None else 0)

    def _selectable(self, idx: int) -> list[tuple[int, int]]:
        out = []
        for mi in range(len(self.session.item(idx).members)):
            conv = self.session.conversation(idx, mi)
            if conv is not None:
                out.extend((mi, i) for i in range(len(conv.messages)))
        return out

    def refresh_all(self) -> None:
        self.rl.refresh()
        self.update_status()
        self.update_detail()

    def update_status(self) -> None:
        c = self.session.counts()
        t = Text()
        t.append(one_line(self.session.path.name, 40), "bold")
        t.append("  " + tr("{n} records", n=len(self.session)) + "  ")
        t.append(f"✓ {c['accepted']} ", "green")
        t.append(f"✗ {c['rejected']} ", "red")
        t.append("· " + tr("{n} pending", n=c['pending']), "dim")
        if self.session.filter:
            t.append("  " + tr("filter {spec} ({n} shown)", spec=visible('='.join(self.session.filter)),
                               n=len(self.session.view)), "yellow")
        if len(self.session.view):
            t.append(f"  [{self.rl.cursor + 1}/{len(self.session.view)}]", "dim")
        if self.query_text:
            t.append("  /" + one_line(self.query_text, 30), "cyan")
        self.query_one("#status", Static).update(t)

    def update_detail(self) -> None:
        idx = self.rl.current
        detail = self.query_one("#detail", Static)
        if idx is None:
            detail.update(Text(tr("no records shown (press f and choose 'all' to clear the filter)"), "dim"))
            return
        if self._sel_for != idx:
            self.sel = self._default_sel(idx)
            self._sel_for = idx
            self.query_one("#detail-scroll").scroll_home(animate=False)
        item = self.session.item(idx)
        convs = [self.session.conversation(idx, mi) for mi in range(len(item.members))]
        detail.update(render.detail(item, self.session.state(idx), convs, self.sel, self.show_reasoning,
                                    self.session.path.name))

    def on_cursor_moved(self, _: CursorMoved) -> None:
        self.update_status()
        self.update_detail()

    def notify_text(self, msg: str, severity: str = "information") -> None:
        self.app.notify(visible(msg), markup=False, severity=severity, timeout=3)

    def _after_decision(self, advance: bool = True) -> None:
        if advance and self.rl.cursor + 1 < len(self.session.view):
            self.rl.move_to(self.rl.cursor + 1)
        self.refresh_all()

    # -- decisions -----------------------------------------------------------------------------
    def action_accept(self) -> None:
        idx = self.rl.current
        if idx is not None:
            self.session.accept(idx)
            self._after_decision()

    def action_reject(self) -> None:
        idx = self.rl.current
        if idx is None:
            return

        def done(reason: str | None) -> None:
            if reason:
                self.session.reject(idx, reason)
                self._after_decision()
        self.app.push_screen(ChoiceScreen(tr("Reject: pick a reason or type one"), self.config.reasons,
                                         tr("or type and press Enter")), done)

    def action_tag(self) -> None:
        idx = self.rl.current
        if idx is None:
            return

        def done(tag: str | None) -> None:
            if tag:
                on = self.session.toggle_tag(idx, tag)
                self.notify_text(tr("tagged {tag}" if on else "untagged {tag}", tag=tag))
                self.refresh_all()
        self.app.push_screen(ChoiceScreen(tr("Tag (toggles): pick or type"), self.config.tags,
                                          tr("or type and press Enter")), done)

    def action_quick_tag(self, n: int) -> None:
        idx = self.rl.current
        if idx is None or n > len(self.config.tags):
            return
        tag = self.config.tags[n - 1]
        on = self.session.toggle_tag(idx, tag)
        self.notify_text(tr("tagged {tag}" if on else "untagged {tag}", tag=tag))
        self.refresh_all()

    def action_select(self, d: int) -> None:
        idx = self.rl.current
        if idx is None:
            return
        options = self._selectable(idx)
        if options:
            i = options.index(self.sel) if self.sel in options else 0
            self.sel = options[(i + d) % len(options)]
            self.update_detail()

    def action_edit(self) -> None:
        idx = self.rl.current
        if idx is None:
            return
        mi, msg_i = self.sel
        conv = self.session.conversation(idx, mi)
        if conv is None or not conv.messages:
            self.action_edit_raw()  # not a valid conversation: edit the row as JSON (validated on save)
            return
        msg_i = min(msg_i, len(conv.messages) - 1)
        original = conv.messages[msg_i].content
        shown = visible(original)
        if shown != original:
            self.notify_text(tr("control characters are shown as visible stand-ins; saving keeps the stand-ins"), "warning")

        def done(text: str | None) -> None:
            if text is not None and text != shown:
                self.session.edit(idx, mi, msg_i, text)
                self.notify_text(tr("edited message {i} ({role})", i=msg_i, role=conv.messages[msg_i].role))
                self.refresh_all()
        if self.use_editor:
            done(self._external_edit(shown))
        else:
            self.app.push_screen(EditScreen(tr("edit {role} message {i} of {id}", role=conv.messages[msg_i].role, i=msg_i,
                                                    id=conv.id), shown), done)

    def _external_edit(self, text: str) -> str | None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.notify_text(tr("--editor needs $EDITOR (or $VISUAL) set"), "error")
            return None
        fd, name = tempfile.mkstemp(suffix=".txt", prefix="curate-review-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            with self.app.suspend():
                rc = subprocess.call([*shlex.split(editor), name])
            if rc != 0:
                self.notify_text(tr("editor exited with {rc}; edit discarded", rc=rc), "warning")
                return None
            with open(name, encoding="utf-8") as fh:
                return fh.read()
        finally:
            os.unlink(name)

    def action_undo(self) -> None:
        touched = self.session.undo()
        if not touched:
            self.notify_text(tr("nothing to undo"))
            return
        pos = self.session.position_of(touched[0])
        if pos is not None:
            self.rl.move_to(pos)
        self.notify_text(tr("undone ({n} records)", n=len(touched)) if is_zh() or len(touched) > 1
                         else "undone (1 record)")
        self.refresh_all()

    def action_bulk(self, action: str) -> None:
        view = self.session.view.copy()
        if not len(view):
            return

        def confirmed(ok: bool | None, reason: str | None = None) -> None:
            if ok:
                n = self.session.bulk(view, action, reason)
                self.notify_text(tr("{action}ed {n} records (u undoes the whole batch)",
                                    action=tr(action) if is_zh() else action, n=n))
                self.refresh_all()

        what = tr(f"{action.capitalize()} ALL {{n}} records shown", n=len(view))
        if self.session.filter:
            what += f" ({tr('filter')} {'='.join(self.session.filter)})"
        if action == "reject":
            def with_reason(reason: str | None) -> None:
                if reason:
                    self.app.push_screen(ConfirmScreen(what + tr(" with reason {reason}", reason=reason) + "?"),
                                         lambda ok: confirmed(ok, reason))
            self.app.push_screen(ChoiceScreen(tr("Reject all shown: reason"), self.config.reasons,
                                                 tr("or type and press Enter")), with_reason)
        else:
            self.app.push_screen(ConfirmScreen(what + "?"), confirmed)

    # -- navigation, search, filter ------------------------------------------------------------
    def action_next_pending(self) -> None:
        pos = self.session.next_pending(self.rl.cursor)
        if pos is None:
            self.notify_text(tr("no pending record after this one"))
        else:
            self.rl.move_to(pos)

    def action_search(self) -> None:
        def done(q: str | None) -> None:
            if q:
                self.query_text = q
                self.action_search_next(1)
        self.app.push_screen(PromptScreen(tr("Search (case-insensitive; n / N for next / previous)"), self.query_text), done)

    def action_search_next(self, direction: int) -> None:
        if not self.query_text:
            self.notify_text(tr("no search yet: press /"))
            return
        pos = self.session.search(self.query_text, self.rl.cursor, forward=direction > 0)
        if pos is None:
            self.notify_text(tr("not found: {q}", q=self.query_text), "warning")
        else:
            self.rl.move_to(pos)
        self.update_status()

    def action_filter(self) -> None:
        choices = ["all", "status=pending", "status=accepted", "status=rejected"]
        choices += [f"reason={r}" for r in self.session.reasons_seen()]
        choices += [f"tag={t}" for t in self.config.tags]

        def done(spec: str | None) -> None:
            if spec is None:
                return
            try:
                n = self.session.set_filter(spec)
            except UsageError as e:
                self.notify_text(str(e), "error")
                return
            self.rl.cursor = 0
            self.rl.reset()
            self.rl.scroll_to(y=0, animate=False, immediate=True)
            self.notify_text(tr("{n} records shown", n=n))
            self._sel_for = None
            self.refresh_all()
        self.app.push_screen(ChoiceScreen(tr("Filter: pick or type status=…, reason=…, tag=…, all"), choices,
                                          tr("e.g. reason=near_duplicate")), done)

    def action_toggle_reasoning(self) -> None:
        self.show_reasoning = not self.show_reasoning
        self.update_detail()

    def action_scroll_detail(self, d: int) -> None:
        sc = self.query_one("#detail-scroll")
        sc.scroll_to(y=sc.scroll_y + d * max(1, sc.size.height // 2), animate=False)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.config.tags))

    def action_quit(self) -> None:
        self.app.exit()


class ReviewApp(App):
    """`curate review FILE`."""

    TITLE = "curate review"
    ENABLE_COMMAND_PALETTE = False
    CSS = MODAL_CSS + """
    #status { height: 1; background: $boost; padding: 0 1; }
    #list { height: 40%; border-bottom: solid $accent; overflow-x: hidden; }
    #detail-scroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, session: ReviewSession, config: ReviewConfig | None = None, use_editor: bool = False):
        super().__init__()
        self.session = session
        self.config = config or ReviewConfig()
        self.use_editor = use_editor

    def on_mount(self) -> None:
        self.push_screen(localized(ReviewScreen)(self.session, self.config, self.use_editor))

    @property
    def review(self) -> ReviewScreen:
        return next(s for s in self.screen_stack if isinstance(s, ReviewScreen))
