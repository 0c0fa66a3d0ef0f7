"""Batch screens: prove, for a whole batch of records at once, which ones a filter keeps.

A filter may define ``screen(view) -> bool array | None``. ``sure[i]`` True is a proof that the
filter's plain ``filter(conv)`` returns True for record i; False only means "not proven" (the plain
filter then runs). None: no screen for these parameters. The chain runs, for each record, only
the filters whose screen did not prove it passes, in the same order, so the first drop — and with
it every reject message, count and output byte — is the one the plain per-record run gives.

A screen never approximates: each says in a comment why its "passes" implies the plain verdict,
and tests/test_filter_screens.py compares every screen with the plain filter on real and hostile
records. Most screens scan one string per batch: the texts they read, joined by a separator that
none of their patterns contains, so no match spans two texts and every text with a match is
found (`hit_texts`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Sequence

from curator.filters.needles import texts_holding, texts_matching
from curator.record import ROLES, Conversation


_ROLE_CODE = {r: i for i, r in enumerate(ROLES)}


class BatchView:
    """The messages of a batch, flattened once and shared by every screen: message `j` (its
    `roles[j]`, `contents[j]`, `reasonings[j]`) belongs to record `owner[j]`, whose meta is
    `metas[owner[j]]`; joined texts per (roles, part) are built on first use and cached.

    Built from `Conversation`s, or (`of_turns`) from the (role, content, reasoning) turns and
    meta of rows the plain-row path read (`curator.engine.filter_plain`): screens read only these
    lists, so both give the same proofs for the same records. Such a view may also hold each
    record's raw JSON line and whether it is clean (`validate.line_is_clean`): a clean line holds
    every text's characters byte for byte but '"', '\\', '/' and control characters (JSON escapes
    them), so one search of the line can stand for a search of every text (`narrowed`)."""

    def __init__(self, convs: Sequence[Conversation]):
        msgs: list = []
        counts = []
        for c in convs:
            msgs.extend(c.messages)
            counts.append(len(c.messages))
        self._set([m.role for m in msgs], [m.content for m in msgs], [m.reasoning for m in msgs], counts,
                  [c.meta for c in convs])

    @classmethod
    def of_turns(cls, turns: Sequence[Sequence[tuple[str, str, str | None]]], metas: Sequence[dict],
                 lines: Sequence[bytes] | None = None, clean: Sequence[bool] | None = None) -> "BatchView":
        """The view of records given as their turns (role, content, reasoning) and meta, and
        optionally their raw lines and `line_is_clean` flags (texts as the plain path reads them
        from a line: substrings of its strings, perhaps joined by "\n")."""
        view = cls.__new__(cls)
        flat = [t for ts in turns for t in ts]
        roles, contents, reasonings = (list(x) for x in zip(*flat)) if flat else ([], [], [])
        view._set(roles, contents, reasonings, list(map(len, turns)), metas)
        view.turns = turns
        view.lines, view.clean = lines, clean
        return view

    def _set(self, roles: list[str], contents: list[str], reasonings: list[str | None], counts: list[int],
             metas: Sequence[dict]) -> None:
        import numpy as np

        self.n = len(counts)
        self.roles, self.contents, self.reasonings, self.metas = roles, contents, reasonings, metas
        self.owner = np.repeat(np.arange(self.n), counts)
        self.lines: Sequence[bytes] | None = None
        self.clean: Sequence[bool] | None = None
        self._cache: dict[Any, Any] = {}

    def narrowed(self, may_hold: Callable[["Joined"], set[int]], screen: Callable[["BatchView"], Any]) -> Any:
        """`screen(self)`, computed only for the records whose raw line is not clean or may hold
        what the screen looks for; the others are proven. `may_hold(lines)`: the indices of the
        records whose line holds what makes the screen's filter look further (`lines`: the raw
        lines as a `Joined`), searched as strings with no '"', '\\', '/', "\n" or control
        character, which a clean line holds wherever one of its texts does. Without raw lines
        (records parsed into `Conversation`s) it is `screen(self)`."""
        import numpy as np

        if self.lines is None:
            return screen(self)
        if "lines" not in self._cache:
            self._cache["lines"] = Joined(None, self.lines)
        idx = sorted(may_hold(self._cache["lines"]).union(k for k, clean in enumerate(self.clean) if not clean))
        sure = np.ones(self.n, dtype=bool)
        if idx:
            sub = BatchView.of_turns([self.turns[k] for k in idx], [self.metas[k] for k in idx])
            sure[idx] = screen(sub)
        return sure

    def role_index(self, roles: Sequence[str]) -> list[int]:
        """Indices (into `msgs`) of the messages whose role is in `roles`."""
        import numpy as np

        key = ("roles", tuple(sorted(roles)))
        if key not in self._cache:
            if "codes" not in self._cache:
                code = _ROLE_CODE.get  # a role outside ROLES (let in by --allow) matches no filter's roles
                self._cache["codes"] = np.fromiter([code(r, -1) for r in self.roles], dtype=np.int8,
                                                   count=len(self.roles))
            want = [_ROLE_CODE[r] for r in roles if r in _ROLE_CODE]
            self._cache[key] = np.flatnonzero(np.isin(self._cache["codes"], want)).tolist()
        return self._cache[key]

    def texts(self, roles: Sequence[str], reasoning: bool = False) -> tuple[list[str], Any]:
        """(texts, owner record of each): the content of every message of `roles`, and with
        `reasoning` also each non-empty reasoning."""
        import numpy as np

        key = ("texts", tuple(sorted(roles)), reasoning)
        if key not in self._cache:
            idx = self.role_index(roles)
            contents, reasonings = self.contents, self.reasonings
            texts = [contents[j] for j in idx]
            owner = self.owner[idx]
            if reasoning:
                rs = [j for j in idx if reasonings[j]]
                if rs:
                    texts = texts + [reasonings[j] for j in rs]  # type: ignore[misc]
                    owner = np.concatenate([owner, self.owner[rs]])
            self._cache[key] = (texts, owner)
        return self._cache[key]

    def joined(self, roles: Sequence[str], reasoning: bool = False) -> "Joined":
        key = ("joined", tuple(sorted(roles)), reasoning)
        if key not in self._cache:
            self._cache[key] = Joined(self.texts(roles, reasoning)[0])
        return self._cache[key]

    def sure_except(self, owners: Any) -> Any:
        """All records proven, except the owners listed."""
        import numpy as np

        sure = np.ones(self.n, dtype=bool)
        if len(owners):
            sure[owners] = False
        return sure


SEP = "\n"


@lru_cache(maxsize=16)
def cover_needles(words: tuple[str, ...]) -> tuple[str, ...]:
    """A few substrings such that every word contains one of them (greedy set cover over
    substrings of >= 4 characters, >= 2 for non-ASCII words): a text holding none of them holds
    none of the words, and scanning for 15 needles costs less than scanning for 54 words."""
    left = set(words)
    out: list[str] = []
    while left:
        cover: dict[str, set[str]] = {}
        for w in left:
            lo = min(len(w), 4 if w.isascii() else 2)
            for size in range(lo, len(w) + 1):
                for i in range(len(w) - size + 1):
                    cover.setdefault(w[i:i + size], set()).add(w)
        best = max(sorted(cover), key=lambda sub: (len(cover[sub]), len(sub)))
        out.append(best)
        left -= cover[best]
    return tuple(out)


class Joined:
    """Texts as UTF-8 joined by `SEP` once, for scans that find which texts hold a needle. Bytes,
    because `bytes.find` outruns `str.find` on wide strings, and UTF-8 is self-synchronising: a
    needle's encoding occurs in a text's encoding only where the needle occurs in the text."""

    def __init__(self, texts: Sequence[str] | None, encoded: Sequence[bytes] | None = None):
        import numpy as np

        self.texts = texts
        enc = encoded if encoded is not None else [t.encode("utf-8", "surrogatepass") for t in texts or ()]
        self.k = len(enc)
        self.big = SEP.encode().join(enc)
        lens = np.fromiter(map(len, enc), dtype=np.int64, count=len(enc)) + len(SEP)
        self.starts: list[int] = (np.cumsum(lens) - lens).tolist()
        self._lower: bytes | None = None

    def with_any(self, needles: Sequence[str | bytes]) -> set[int]:
        """Indices of the texts holding one of `needles` (none may hold `SEP`)."""
        return texts_holding(self.big, self.starts, [_utf8(n) for n in needles])

    def lowered_any(self, needles: Sequence[str | bytes]) -> set[int]:
        """Indices of the texts whose UTF-8, lowered byte by byte (A-Z only), holds one of
        `needles` (none may hold `SEP`)."""
        if self._lower is None:
            self._lower = self.big.lower()
        return texts_holding(self._lower, self.starts, [_utf8(n) for n in needles])


    def lowered_matching(self, rx: re.Pattern[bytes]) -> set[int]:
        """Indices of the texts whose UTF-8, lowered byte by byte, `rx` matches (a bytes pattern
        no match of which holds `SEP`)."""
        if self._lower is None:
            self._lower = self.big.lower()
        return texts_matching(self._lower, self.starts, rx)


def _utf8(needle: str | bytes) -> bytes:
    return needle if isinstance(needle, bytes) else needle.encode("utf-8", "surrogatepass")


def hit_texts(texts: Sequence[str], rx: re.Pattern[str], sep: str = SEP,
              prepare: Callable[[str], str] | None = None) -> list[int]:
    """Indices of the texts in which `rx` matches, in one scan of the joined texts.

    Exact when no match of `rx` can contain `sep` (then no match spans two texts): the search
    started at a text's first character finds the leftmost match at or after it, which lies in that
    text when the text has one. A match found in text i resumes the scan at text i + 1.
    `prepare` may rewrite the joined string if it keeps every character's position."""
    import bisect

    if not texts:
        return []
    big = sep.join(texts)
    if prepare is not None:
        big = prepare(big)
    starts = []
    at = 0
    for t in texts:
        starts.append(at)
        at += len(t) + len(sep)
    out: list[int] = []
    pos = 0
    search = rx.search
    k = len(texts)
    while True:
        m = search(big, pos)
        if m is None:
            return out
        i = bisect.bisect_right(starts, m.start()) - 1
        out.append(i)
        if i + 1 >= k:
            return out
        pos = starts[i + 1]
