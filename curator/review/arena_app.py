"""The blind A/B screen: one prompt, two answers side by side, model names hidden.

Keys: 1 or ← left better · 2 or → right better · t tie · b both bad (asks why) · n / p next /
previous pair · u next undecided · q quit. Each key commits to SQLite before the screen moves
on (`ArenaStore.decide`), so a killed session loses nothing and resumes at the first pair this
annotator has not decided.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from curator.review.arena import ArenaStore, Pair
from curator.review.arena_stats import summarize, verdict_line
from curator.i18n import tr
from curator.review.safe_text import safe
from curator.review.screens import MODAL_CSS, PromptScreen

_CSS = MODAL_CSS + """
#status { height: 1; background: $boost; }
#prompt { height: auto; max-height: 40%; border: round $primary; padding: 0 1; }
#answers { height: 1fr; }
#answers VerticalScroll { width: 1fr; border: round $secondary; padding: 0 1; }
"""


class ArenaApp(App):
    CSS = _CSS
    TITLE = "curate review --compare"
    BINDINGS = [
        Binding("1,left", "decide('left')", "Left better"), Binding("2,right", "decide('right')", "Right better"),
        Binding("t,equals_sign", "decide('tie')", "Tie"), Binding("b", "both_bad", "Both bad"),
        Binding("n,j", "move(1)", "Next"), Binding("p,k", "move(-1)", "Prev"),
        Binding("u", "next_undecided", "Next undecided"), Binding("q", "quit", "Quit"),
    ]

    def __init__(self, store: ArenaStore, pairs: list[Pair], annotator: str):
        super().__init__()
        self.store, self.pairs, self.annotator = store, pairs, annotator
        self.mine = store.latest(annotator).get(annotator, {})
        self.pos = self._first_undecided(0)

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield VerticalScroll(Static(id="prompt_text"), id="prompt")
        with Horizontal(id="answers"):
            yield VerticalScroll(Static(id="left_text"), id="left")
            yield VerticalScroll(Static(id="right_text"), id="right")
        yield Footer()

    def on_mount(self) -> None:
        self.show()

    def _first_undecided(self, start: int) -> int:
        n = len(self.pairs)
        for k in range(n):
            i = (start + k) % n
            if self.pairs[i].key not in self.mine:
                return i
        return min(start, max(n - 1, 0))

    def show(self) -> None:
        if not self.pairs:
            self.query_one("#status", Static).update(tr("no pairs to compare"))
            return
        pair = self.pairs[self.pos]
        done = sum(1 for p in self.pairs if p.key in self.mine)
        status = " " + tr("pair {i}/{n} · decided {done} · annotator {who}", i=self.pos + 1, n=len(self.pairs), done=done,
                           who=self.annotator)
        if pair.key in self.mine:
            status += " · " + tr("your decision: {d}", d=tr(self._shown(pair, self.mine[pair.key])))
        if done == len(self.pairs):
            status += " · " + tr("all decided") + ": " + verdict_line(summarize(self.store)["per_annotator"][self.annotator], "A", "B")
        self.query_one("#status", Static).update(Text(status))
        turns = [Text.assemble((f"{m.role}: ", "bold"), safe(m.content)) for m in pair.prompt.messages]
        self.query_one("#prompt_text", Static).update(Group(*turns))
        left, right = pair.sides()
        self.query_one("#left_text", Static).update(Group(Text(tr("LEFT"), "bold cyan"), safe(left)))
        self.query_one("#right_text", Static).update(Group(Text(tr("RIGHT"), "bold magenta"), safe(right)))
        for w in ("#left", "#right", "#prompt"):
            self.query_one(w, VerticalScroll).scroll_home(animate=False)

    @staticmethod
    def _shown(pair: Pair, winner: str) -> str:
        """A decision as the annotator saw it (left/right), never the model name."""
        if winner in ("tie", "both_bad"):
            return winner.replace("_", " ")
        return "left" if (winner == "a") == pair.a_left else "right"

    def _record(self, choice: str, reason: str | None = None) -> None:
        if not self.pairs:
            return
        pair = self.pairs[self.pos]
        self.mine[pair.key] = self.store.decide(pair, self.annotator, choice, reason)
        self.pos = self._first_undecided(self.pos + 1)
        self.show()

    def action_decide(self, choice: str) -> None:
        self._record(choice)

    def action_both_bad(self) -> None:
        def done(reason: str | None) -> None:
            if reason is not None and reason.strip():
                self._record("both_bad", reason.strip())

        self.push_screen(PromptScreen(tr("Both bad: why? (Enter saves, Esc cancels)")), done)

    def action_move(self, d: int) -> None:
        if self.pairs:
            self.pos = max(0, min(len(self.pairs) - 1, self.pos + d))
            self.show()

    def action_next_undecided(self) -> None:
        if self.pairs:
            self.pos = self._first_undecided(self.pos + 1)
            self.show()
