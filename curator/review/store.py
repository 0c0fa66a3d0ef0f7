"""The reviewer's decisions, persisted the moment they are made.

An append-only SQLite table next to the reviewed file (``FILE.review.sqlite``): every accept,
reject, tag, edit and undo is one row with a timestamp, committed before the app shows it. WAL
mode with ``synchronous=FULL`` means a committed decision survives the app being killed (``kill
-9``) or the machine losing power; nothing is ever updated or deleted, so an undo is itself a
logged event (``action='undo'``, ``target`` = the undone row) and the full history can be audited.

The current state of a record is the fold of its events that were not undone. Only records
that have events are kept in memory, so a 1M-row file with a few thousand decisions costs a
few thousand small objects.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        TEXT NOT NULL,
    idx       INTEGER NOT NULL,      -- position of the row in the reviewed file (0-based)
    record_id TEXT,
    action    TEXT NOT NULL,         -- accept | reject | pending | tag | untag | edit | undo
    reason    TEXT,
    tag       TEXT,
    member    INTEGER,
    message   INTEGER,
    content   TEXT,
    target    INTEGER,               -- for undo: the seq undone
    batch     INTEGER                -- events made by one bulk action share a batch id
);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT);
"""


def db_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_name(p.name + ".review.sqlite")


@dataclass(slots=True)
class Event:
    seq: int
    ts: str
    idx: int
    action: str
    record_id: str | None = None
    reason: str | None = None
    tag: str | None = None
    member: int | None = None
    message: int | None = None
    content: str | None = None
    target: int | None = None
    batch: int | None = None


@dataclass
class RecordState:
    status: str = "pending"  # pending | accepted | rejected
    reason: str | None = None
    tags: list[str] = field(default_factory=list)
    edits: dict[tuple[int, int], str] = field(default_factory=dict)
    decided_at: str | None = None

    @property
    def edited(self) -> bool:
        return bool(self.edits)


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def fold(events: Iterable[Event]) -> RecordState:
    """The state a record's (not undone) events leave it in, applied in order."""
    st = RecordState()
    for ev in events:
        if ev.action in ("accept", "reject", "pending"):
            st.status = {"accept": "accepted", "reject": "rejected", "pending": "pending"}[ev.action]
            st.reason = ev.reason if ev.action == "reject" else None
            st.decided_at = ev.ts if ev.action != "pending" else None
        elif ev.action == "tag" and ev.tag and ev.tag not in st.tags:
            st.tags.append(ev.tag)
        elif ev.action == "untag" and ev.tag in st.tags:
            st.tags.remove(ev.tag)
        elif ev.action == "edit" and ev.member is not None and ev.message is not None:
            st.edits[(ev.member, ev.message)] = ev.content or ""
    return st


class DecisionStore:
    """Append-only decision log for one reviewed file."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(SCHEMA)
        self._events: dict[int, list[Event]] = {}
        self._active: list[Event] = []  # not-undone, non-undo events in order: the undo stack
        self._undone: set[int] = set()
        self.states: dict[int, RecordState] = {}
        self._load()

    def _load(self) -> None:
        cols = "seq, ts, idx, action, record_id, reason, tag, member, message, content, target, batch"
        rows = [Event(*r) for r in self.conn.execute(f"SELECT {cols} FROM decisions ORDER BY seq")]
        self._undone = {ev.target for ev in rows if ev.action == "undo" and ev.target is not None}
        for ev in rows:
            if ev.action == "undo":
                continue
            self._events.setdefault(ev.idx, []).append(ev)
            if ev.seq not in self._undone:
                self._active.append(ev)
        for idx in self._events:
            self._refresh(idx)

    def _refresh(self, idx: int) -> None:
        st = fold(ev for ev in self._events.get(idx, ()) if ev.seq not in self._undone)
        if st.status == "pending" and not st.tags and not st.edits:
            self.states.pop(idx, None)
        else:
            self.states[idx] = st

    def state(self, idx: int) -> RecordState:
        return self.states.get(idx) or RecordState()

    def _append(self, evs: list[Event]) -> None:
        """Write events in one transaction, then apply them in memory (only after the commit)."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for ev in evs:
                cur.execute("INSERT INTO decisions (ts, idx, record_id, action, reason, tag, member, message, content, "
                            "target, batch) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            (ev.ts, ev.idx, ev.record_id, ev.action, ev.reason, ev.tag, ev.member, ev.message,
                             ev.content, ev.target, ev.batch))
                ev.seq = cur.lastrowid
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        touched = set()
        for ev in evs:
            if ev.action == "undo":
                self._undone.add(ev.target)  # type: ignore[arg-type]
            else:
                self._events.setdefault(ev.idx, []).append(ev)
                self._active.append(ev)
            touched.add(ev.idx)
        if any(ev.action == "undo" for ev in evs):
            self._active = [e for e in self._active if e.seq not in self._undone]
        for idx in touched:
            self._refresh(idx)

    def record(self, idx: int, action: str, record_id: str | None = None, **kw) -> Event:
        ev = Event(0, _now(), idx, action, record_id, **kw)
        self._append([ev])
        return ev

    def record_many(self, idxs: Iterable[int], action: str, ids: Iterable[str | None], **kw) -> int:
        """One bulk action: every event shares a batch id, so one undo takes the whole batch back."""
        batch = int(time.time() * 1000)
        ts = _now()
        evs = [Event(0, ts, int(i), action, rid, batch=batch, **kw) for i, rid in zip(idxs, ids)]
        if evs:
            self._append(evs)
        return len(evs)

    def undo(self) -> list[int]:
        """Take back the last decision (or bulk batch); returns the rows it touched."""
        if not self._active:
            return []
        last = self._active[-1]
        targets = [e for e in self._active if e.batch is not None and e.batch == last.batch] if last.batch else [last]
        ts = _now()
        self._append([Event(0, ts, e.idx, "undo", e.record_id, target=e.seq) for e in targets])
        return sorted({e.idx for e in targets})

    def history(self) -> list[tuple]:
        return list(self.conn.execute("SELECT seq, ts, idx, action, reason, tag, target FROM decisions ORDER BY seq"))

    def close(self) -> None:
        self.conn.close()
