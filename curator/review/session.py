"""The review model: a file, its decisions, the filtered view, search. No Textual here.

The app is a thin shell over `ReviewSession`, so every behaviour (filters, search, undo, bulk)
is testable without a terminal and the app code stays about widgets.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Iterator

import numpy as np
import orjson

from curator.errors import UsageError
from curator.record import Conversation
from curator.review.fixes import RAW_EDIT, parse_raw_edit, suggest_fix
from curator.review.items import ReviewItem, interpret
from curator.review.resolve import MemberResolver
from curator.review.source import RowSource
from curator.review.store import DecisionStore, RecordState, db_path

STATUSES = ("pending", "accepted", "rejected")
FILTER_KEYS = ("status", "reason", "tag")


def parse_filter(spec: str | None) -> tuple[str, str] | None:
    """'status=pending' -> ('status', 'pending'); '' or 'all' -> None (no filter)."""
    if spec is None or not spec.strip() or spec.strip() == "all":
        return None
    key, eq, value = spec.strip().partition("=")
    key, value = key.strip().lower(), value.strip()
    if not eq or key not in FILTER_KEYS or not value:
        raise UsageError(f"filter {spec!r}: expected status=pending|accepted|rejected, reason=CODE or tag=NAME")
    if key == "status" and value not in STATUSES:
        raise UsageError(f"filter {spec!r}: status is one of {', '.join(STATUSES)}")
    return key, value


class ReviewSession:
    def __init__(self, path: str | os.PathLike[str], db: str | os.PathLike[str] | None = None, cache_size: int = 512):
        self.path = Path(path)
        self.source = RowSource(self.path)
        self.store = DecisionStore(db or db_path(self.path))
        # Decisions follow their record's content if the file changed since (see DecisionStore.rebind).
        self.warnings: list[str] = self.store.rebind(self._rhash, len(self.source))
        self._cache: OrderedDict[int, ReviewItem] = OrderedDict()
        self._cache_size = cache_size
        self.filter: tuple[str, str] | None = None
        self.view: np.ndarray = np.arange(len(self.source), dtype=np.int64)
        self.resolver = MemberResolver(self.path.parent)

    def __len__(self) -> int:
        return len(self.source)

    @property
    def decoded_rows(self) -> int:
        """Rows held decoded in memory now (bounded by `cache_size`, however large the file)."""
        return len(self._cache)

    @property
    def cache_size(self) -> int:
        return self._cache_size

    # -- rows ----------------------------------------------------------------------------------
    def item(self, idx: int) -> ReviewItem:
        """The interpreted row (a small LRU: only rows on screen and searched are decoded)."""
        it = self._cache.get(idx)
        if it is None:
            it = interpret(idx, self.source.line(idx), self.source.row(idx))
            if it.kind == "group":
                self.resolver.fill(it)  # dedup/conflict members given as source + line: show their text
            self._cache[idx] = it
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(idx)
        return it

    def state(self, idx: int) -> RecordState:
        return self.store.state(idx)

    def conversation(self, idx: int, member: int = 0) -> Conversation | None:
        """The member's conversation with the reviewer's edits applied (a copy)."""
        it = self.item(idx)
        if member >= len(it.members):
            return None
        edits = self.state(idx).edits
        raw = edits.get((member, RAW_EDIT))
        if raw is not None:  # the whole row was fixed or edited as JSON (validated before it was saved)
            conv, _ = parse_raw_edit(raw)
        else:
            conv = it.members[member].conv.copy() if it.members[member].conv is not None else None
        if conv is None:
            return None
        for (mem, msg), content in edits.items():
            if mem == member and 0 <= msg < len(conv.messages):
                conv.messages[msg].content = content
        return conv

    def raw_text(self, idx: int, member: int = 0) -> str:
        """The member's row as JSON for a raw edit: the last raw edit, the record, or the raw row."""
        it = self.item(idx)
        raw = self.state(idx).edits.get((member, RAW_EDIT))
        if raw is not None:
            return raw
        mem = it.members[member] if member < len(it.members) else None
        obj = mem.conv.to_dict() if mem is not None and mem.conv is not None else (mem.raw if mem else it.row)
        return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()

    def edit_raw(self, idx: int, member: int, text: str) -> str | None:
        """Save a raw JSON edit when it is a valid record; else return what is wrong (nothing saved)."""
        conv, problem = parse_raw_edit(text)
        if conv is None:
            return problem
        self.store.record(idx, "edit", self._rid(idx), member=member, message=RAW_EDIT, content=text)
        return None

    def suggested_fix(self, idx: int, member: int = 0) -> tuple[str, dict] | None:
        """The reader's suggested fix for an invalid member row (see `curator.review.fixes`)."""
        it = self.item(idx)
        if member >= len(it.members) or self.conversation(idx, member) is not None:
            return None
        mem = it.members[member]
        return suggest_fix(mem.raw)

    def reason(self, idx: int) -> str | None:
        """The reviewer's reject reason, else the queue's reason."""
        st = self.state(idx)
        return st.reason or self.item(idx).reason

    # -- filtered view -------------------------------------------------------------------------
    def set_filter(self, spec: str | None) -> int:
        """Apply a filter to the view; returns how many rows it shows."""
        flt = parse_filter(spec)
        n = len(self.source)
        if flt is None:
            self.view = np.arange(n, dtype=np.int64)
        else:
            key, value = flt
            decided = self.store.states
            if key == "status" and value == "pending":
                done = np.fromiter((i for i, s in decided.items() if s.status != "pending"), dtype=np.int64)
                self.view = np.setdiff1d(np.arange(n, dtype=np.int64), done, assume_unique=True)
            elif key == "status":
                self.view = np.array(sorted(i for i, s in decided.items() if s.status == value), dtype=np.int64)
            elif key == "tag":
                self.view = np.array(sorted(i for i, s in decided.items() if value in s.tags), dtype=np.int64)
            else:  # reason: the queue's own reasons live in the rows, so this one reads every row
                self.view = np.fromiter((i for i in range(n) if self.reason(i) == value), dtype=np.int64)
        self.filter = flt
        return len(self.view)

    def reasons_seen(self, limit: int = 20000) -> list[str]:
        """Reasons in the first `limit` rows and in the decisions (choices for the filter screen)."""
        seen = {s.reason for s in self.store.states.values() if s.reason}
        for i in range(min(limit, len(self.source))):
            r = self.item(i).reason
            if r:
                seen.add(r)
        return sorted(seen)

    def position_of(self, idx: int) -> int | None:
        pos = int(np.searchsorted(self.view, idx))
        return pos if pos < len(self.view) and self.view[pos] == idx else None

    def first_pending(self) -> int:
        """Position in the view of the first pending row (0 when none): where a reopened review resumes."""
        for pos in range(len(self.view)):
            if self.state(int(self.view[pos])).status == "pending":
                return pos
        return 0

    def next_pending(self, pos: int) -> int | None:
        for p in range(pos + 1, len(self.view)):
            if self.state(int(self.view[p])).status == "pending":
                return p
        return None

    def search(self, query: str, pos: int, forward: bool = True) -> int | None:
        """Next view position after `pos` (wrapping) whose text contains `query` (case-insensitive)."""
        q = query.lower()
        n = len(self.view)
        if not q or not n:
            return None
        for step in range(1, n + 1):
            p = (pos + step) % n if forward else (pos - step) % n
            idx = int(self.view[p])
            raw = self.source.raw_bytes(idx)
            # Cheap pre-check on bytes: skip rows that cannot match, unless \u-escaped JSON hides text.
            if raw is not None and q.isascii() and q.encode() not in raw.lower():
                continue
            if raw is not None and not q.isascii() and q.encode() not in raw.lower() and b"\\u" not in raw:
                continue
            if q in self.item(idx).search_text() or any(q in c.lower() for c in self.state(idx).edits.values()):
                return p
        return None

    # -- decisions -----------------------------------------------------------------------------
    def _rid(self, idx: int) -> str:
        return self.item(idx).id

    def _rhash(self, idx: int) -> str | None:
        """The row's content hash: what a decision is bound to, besides its position."""
        import orjson
        import xxhash

        raw = self.source.raw_bytes(idx)
        if raw is None:
            raw = orjson.dumps(self.source.row(idx), option=orjson.OPT_SORT_KEYS, default=str)
        return xxhash.xxh3_64_hexdigest(raw)

    def accept(self, idx: int) -> None:
        self.store.record(idx, "accept", self._rid(idx), rhash=self._rhash(idx))

    def reject(self, idx: int, reason: str) -> None:
        self.store.record(idx, "reject", self._rid(idx), reason=reason, rhash=self._rhash(idx))

    def toggle_tag(self, idx: int, tag: str) -> bool:
        """Add `tag`, or remove it when present; returns whether the row now has it."""
        has = tag in self.state(idx).tags
        self.store.record(idx, "untag" if has else "tag", self._rid(idx), tag=tag, rhash=self._rhash(idx))
        return not has

    def edit(self, idx: int, member: int, message: int, content: str) -> None:
        self.store.record(idx, "edit", self._rid(idx), member=member, message=message, content=content,
                          rhash=self._rhash(idx))

    def bulk(self, idxs: np.ndarray, action: str, reason: str | None = None) -> int:
        ids = [self._rid(int(i)) for i in idxs] if len(idxs) <= 50000 else [None] * len(idxs)
        hashes = [self._rhash(int(i)) for i in idxs]
        return self.store.record_many((int(i) for i in idxs), action, ids, rhashes=hashes, reason=reason)

    def undo(self) -> list[int]:
        return self.store.undo()

    def counts(self) -> dict[str, int]:
        c = {"accepted": 0, "rejected": 0}
        for s in self.store.states.values():
            if s.status in c:
                c[s.status] += 1
        c["pending"] = len(self.source) - c["accepted"] - c["rejected"]
        return c

    def iter_indices(self) -> Iterator[int]:
        return iter(range(len(self.source)))

    def close(self) -> None:
        self.store.close()
        self.source.close()
