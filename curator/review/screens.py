"""Modal screens of the review app: pick/type a reason or tag, edit, prompt, confirm, help.

Every label built from data is a `safe()` Text, never a markup string.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from curator.i18n import is_zh, tr
from curator.review.safe_text import safe

MODAL_CSS = """
ModalScreen { align: center middle; }
ModalScreen > Vertical { width: 80%; max-width: 110; height: auto; max-height: 90%;
                         border: round $accent; background: $surface; padding: 0 1; }
ModalScreen OptionList { height: auto; max-height: 14; }
EditScreen > Vertical { height: 90%; max-height: 90%; }
EditScreen TextArea { height: 1fr; }
"""


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of `choices` (Enter, or its number 1-9) or type a new value; Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[str], placeholder: str = "or type and press Enter"):
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text, "bold"))
            if self.choices:
                yield OptionList(*[Option(Text.assemble((f"{i + 1} " if i < 9 else "  ", "dim"), safe(c)), id=f"c{i}")
                                   for i, c in enumerate(self.choices)])
            yield Input(placeholder=self.placeholder)

    def on_mount(self) -> None:
        self.query_one(OptionList if self.choices else Input).focus()

    def on_key(self, event) -> None:
        if isinstance(self.focused, OptionList) and event.character and event.character in "123456789":
            i = int(event.character) - 1
            if i < len(self.choices):
                event.stop()
                self.dismiss(self.choices[i])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id[1:])])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """One line of input (search, filter); Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", hint: str = ""):
        super().__init__()
        self.title_text, self.value, self.hint = title, value, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text, "bold"))
            if self.hint:
                yield Static(safe(self.hint, "dim"))
            yield Input(value=self.value)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EditScreen(ModalScreen[str | None]):
    """Edit one message in a TextArea: Ctrl+S saves, Esc cancels."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True), Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, text: str):
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text.assemble(safe(self.title_text, "bold"), (tr("   ctrl+s save · esc cancel"), "dim")))
            yield TextArea(self.text, soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """y confirms, n or Esc cancels."""

    BINDINGS = [Binding("y", "yes", "Yes"), Binding("n,escape", "no", "No")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe(self.question, "bold"))
            yield Label(Text(tr("y = yes, n / esc = no"), "dim"))

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


KEYS: list[tuple[str, str]] = [
    ("j / ↓, k / ↑", "next / previous record"),
    ("g / G", "first / last record"),
    ("p", "next pending record"),
    ("a", "accept"),
    ("r", "reject (pick a reason, or type one)"),
    ("e", "edit the selected message (▶); a row that is not a valid record opens as JSON"),
    ("x", "apply the fix the reject's message suggests (e.g. role 'asistant' -> 'assistant')"),
    ("E", "edit the whole row as JSON (validated before it is saved)"),
    ("[ / ]", "select previous / next message"),
    ("t", "tag (pick or type)"),
    ("1-9", "toggle quick tag 1-9"),
    ("u", "undo the last decision (a bulk action is one decision)"),
    ("/", "search text; n / N next / previous match"),
    ("f", "filter: status=pending|accepted|rejected, reason=CODE, tag=NAME, all"),
    ("A / R", "accept / reject ALL records shown (asks first)"),
    ("z", "show / hide reasoning"),
    ("J / K", "scroll the detail pane"),
    ("?", "this help"),
    ("q", "quit (every decision is already saved)"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, tags: list[str]):
        super().__init__()
        self.tags = tags

    def compose(self) -> ComposeResult:
        t = Text()
        t.append(tr("curate review — keys\n\n"), "bold")
        for k, what in KEYS:
            t.append(f"  {k:<14}", "bold cyan")
            t.append(tr(what) + "\n")
        t.append(tr("\nquick tags\n"), "bold")
        for i, tag in enumerate(self.tags[:9]):
            t.append(f"  {i + 1}  ", "bold cyan")
            t.append_text(safe(tag))
            t.append("\n")
        with Vertical():
            yield Static(t)

    def action_close(self) -> None:
        self.dismiss(None)


_T = TypeVar("_T")


def localized(cls: type[_T]) -> type[_T]:
    """`cls` (a Screen or App) with its footer/key descriptions in the UI language. Textual merges
    BINDINGS once per class, so Chinese gets a subclass whose bindings replace the English ones
    key by key."""
    if not is_zh():
        return cls
    bindings = [replace(b, description=tr(b.description)) if b.description else b
                for b in cls.BINDINGS]  # type: ignore[attr-defined]
    return type(cls.__name__, (cls,), {"BINDINGS": bindings})
