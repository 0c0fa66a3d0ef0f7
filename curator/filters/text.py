"""Text hygiene: unfilled placeholders, broken characters (U+FFFD, control, mojibake), code fences.

The reader already rejects U+FFFD, C0/C1 control characters and ``{{name}}`` placeholders unless
`--allow`ed; these filters make the same checks configurable (roles, patterns) and add what a
row check cannot know: mojibake made only of printable characters ("â€™", "Ã©", "é”™è¯¯"),
and code fences left open by a truncated generation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from curator import lexicon
from curator.errors import UsageError
from curator.filters._util import check_roles, clip, messages_of
from curator.filters.base import Drop, Filter, Verdict, register
from curator.filters.screen import SEP, Joined, hit_texts
from curator.record import Conversation

# Shared with validate and the no_placeholders rubric (curator.lexicon): only real template slots.
DEFAULT_PLACEHOLDERS = list(lexicon.PLACEHOLDER_PATTERNS)


@register
@dataclass
class Placeholder(Filter):
    name = "placeholder"
    cost = 1
    codes = ("placeholder",)

    roles: list[str] = field(default_factory=lambda: ["system", "user", "assistant"],
                             metadata={"help": "roles whose messages are checked"})
    patterns: list[str] = field(default_factory=lambda: list(DEFAULT_PLACEHOLDERS),
                                metadata={"help": "regular expressions of unfilled template slots"})
    ignore_code: bool = field(default=True, metadata={"help": "skip code and LaTeX math (braces are legitimate there)"})

    def setup(self) -> None:
        check_roles(self.roles)
        self._patterns = tuple(self.patterns)
        lexicon.placeholder_re(self._patterns)  # a bad pattern is a usage error now, not mid-run

    def filter(self, conv: Conversation) -> Verdict:
        if not self._patterns:
            return True
        # A slot the user asked for (a template request, or the slot is in the prompt) is not unfilled.
        prompt = conv.prompt_text()
        for i, m in messages_of(conv, self.roles):
            is_prompt = m.role in ("system", "user")
            hit = lexicon.find_placeholder(m.content, prompt, patterns=self._patterns, ignore_code=self.ignore_code,
                                           is_prompt=is_prompt, answer=conv.answer_text() if is_prompt else "")
            if hit:
                return Drop("placeholder", f"{m.role} message {i} has an unfilled placeholder {hit!r} "
                                           f"— fill the template or drop the row")
        return True

    def screen(self, view):
        # With the default patterns `find_placeholder` returns None for a text without "{{", "【",
        # "lorem" in its lower case, or a literal opening of a pattern that starts with "[" or "<"
        # (`lexicon.DEFAULT_SLOT_OPENINGS`; `lexicon._may_hold_default_placeholder`: stripping code
        # and math only puts spaces in, so it cannot make one). No character but the ASCII letters
        # lowers to l, o, r, e or m, so an ASCII-case-insensitive search is exactly `"lorem" in
        # text.lower()`. None of them holds the separator "\n", '"', '\\' or '/': on a clean raw
        # line the same search stands for every text (`BatchView.narrowed`), and there "{{" need
        # not be searched (`_SLOT_NEEDS`).
        if not self._patterns:
            return view.sure_except([])
        if self._patterns != lexicon._DEFAULT_PLACEHOLDERS:
            return None
        return view.narrowed(_line_may_hold_slot, self._screen)

    def _screen(self, view):
        owner = view.texts(self.roles)[1]
        return view.sure_except(owner[sorted(_may_hold_slot(view.joined(self.roles)))])


# What a default placeholder needs, searched in UTF-8 lowered byte by byte (`bytes.lower`: A-Z
# only): "【", "lorem", the literal openings of `lexicon.DEFAULT_SLOT_OPENINGS` in lower case (they
# find every opening in any letter case, and a few more than the patterns take), and "{{" — which
# no text of a raw line on the plain route holds: the plain path leaves such rows to the general
# one. One pattern each: a pattern that starts with a literal byte is searched in a tight loop,
# an alternation of them would test every byte against a set.
_SLOT_NEEDS = [re.compile(p.encode("utf-8")) for p in (
    "【", "lorem", r"\[(?:insert|your|placeholder|todo|此处|请填写|插入|填写)", r"<(?:placeholder|insert|your)")]
_SLOT_BRACES = re.compile(rb"\{\{")


def _may_hold_slot(texts: Joined) -> set[int]:
    """The texts that may hold a default placeholder."""
    return _line_may_hold_slot(texts) | texts.lowered_matching(_SLOT_BRACES)


def _line_may_hold_slot(lines: Joined) -> set[int]:
    """The raw lines of plain-route records that may hold a default placeholder."""
    return set().union(*map(lines.lowered_matching, _SLOT_NEEDS))


# UTF-8 read as cp1252/latin-1: a lead byte Ã Â â Ä Å Æ ç-ï shown as a letter, followed by a
# continuation byte shown as one of these. Real words ("Ã©t", "â€™") almost never produce the pairs.
_MOJIBAKE = re.compile(
    r"(?:Ã[\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|â€[™œ\u009d\u0093\u0094˜¦¢“”]|Â[\u00a0-\u00bf]"
    r"|[äåæçèé][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]"
    r"|ï»¿)"
)
# One scan screens clean text: every problem below starts with one of these characters.
_SCREEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffdÃÂâäåæçèéï]")
_ASCII_CLEAN = bytes(c for c in range(128) if not _SCREEN.match(chr(c)))  # ASCII `_SCREEN` never matches
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@register
@dataclass
class BadText(Filter):
    name = "bad_text"
    cost = 1
    codes = ("replacement_char", "control_char", "mojibake")

    roles: list[str] = field(default_factory=lambda: ["system", "user", "assistant", "tool"],
                             metadata={"help": "roles whose messages (and reasoning) are checked"})
    replacement_char: bool = field(default=True, metadata={"help": "drop text with U+FFFD"})
    control_chars: bool = field(default=True, metadata={"help": "drop C0/C1 control characters (not tab/newline)"})
    mojibake: bool = field(default=True, metadata={"help": "drop UTF-8 decoded as Latin-1/cp1252 (â€™, Ã©)"})

    def setup(self) -> None:
        check_roles(self.roles)

    def filter(self, conv: Conversation) -> Verdict:
        for i, m in messages_of(conv, self.roles):
            for text in (m.content, m.reasoning or ""):
                if not text or not _SCREEN.search(text):
                    continue
                if self.replacement_char and "\ufffd" in text:
                    at = text.index("\ufffd")
                    return Drop("replacement_char", f"{m.role} message {i} has U+FFFD at offset {at} near "
                                f"{clip(text[max(0, at - 20):at + 20])} — re-decode the source with the right encoding")
                if self.control_chars:
                    c = _CONTROL.search(text)
                    if c:
                        return Drop("control_char", f"{m.role} message {i} has control character "
                                    f"U+{ord(c.group(0)):04X} at offset {c.start()}")
                if self.mojibake:
                    b = _MOJIBAKE.search(text)
                    if b:
                        return Drop("mojibake", f"{m.role} message {i} has mojibake {b.group(0)!r} at offset "
                                    f"{b.start()} — UTF-8 text was decoded as Latin-1/cp1252 upstream")
        return True

    def screen(self, view):
        # `filter` skips every text `_SCREEN` does not match. A clean raw line (see `BatchView`)
        # has no control character, DEL, U+0080..U+009F or U+FFFD in its texts, so `_SCREEN`
        # can only match there at Ã..ï (U+00C2..U+00EF), whose UTF-8 starts with 0xC3.
        return view.narrowed(_may_hold_c3, self._screen)

    def _screen(self, view):
        # `_SCREEN` never matches "\n". In ASCII text it can only match a control character:
        # deleting every other byte from the joined ASCII texts leaves nothing when none holds
        # one (then only the rest are scanned).
        texts, owner = view.texts(self.roles, reasoning=True)
        ascii_ = [t.isascii() for t in texts]
        rest = [i for i, a in enumerate(ascii_) if not a]
        if len(rest) < len(texts):
            data = SEP.join([t for t, a in zip(texts, ascii_) if a]).encode("ascii")
            if data.translate(None, _ASCII_CLEAN):
                rest = list(range(len(texts)))
        hits = hit_texts([texts[i] for i in rest], _SCREEN)
        return view.sure_except(owner[[rest[i] for i in hits]])


def _may_hold_c3(lines: Joined) -> set[int]:
    return lines.with_any((b"\xc3",))


_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)", re.M)


@register
@dataclass
class CodeFence(Filter):
    name = "code_fence"
    cost = 1
    codes = ("unbalanced_fence",)

    roles: list[str] = field(default_factory=lambda: ["assistant"], metadata={"help": "roles checked"})

    def setup(self) -> None:
        check_roles(self.roles)

    def filter(self, conv: Conversation) -> Verdict:
        for i, m in messages_of(conv, self.roles):
            text = m.content
            if "```" not in text and "~~~" not in text:
                continue
            # An odd number of fence lines means a block never closed: usually a generation cut off
            # at max_tokens, which teaches the model to stop mid-code.
            n = len(_FENCE_LINE.findall(text))
            if n % 2:
                return Drop("unbalanced_fence", f"{m.role} message {i} has {n} code fence lines (odd: a code "
                            f"block is never closed) — the answer was probably truncated")
        return True

    def screen(self, view):
        # `filter` skips a text without ``` or ~~~ (neither holds "\n")
        # (one character first: `in` finds it at memchr speed, and most texts have none)
        texts, owner = view.texts(self.roles)
        return view.sure_except(owner[[i for i, t in enumerate(texts)
                                        if ("`" in t and "```" in t) or ("~" in t and "~~~" in t)]])
