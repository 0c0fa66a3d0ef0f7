"""The reviewer's decisions, persisted the moment they are made.

An append-only SQLite table next to the reviewed file (``FILE.review.sqlite``): every accept,
reject, tag, edit and undo is one row with a timestamp, committed before the app shows it. WAL
mode with ``synchronous=FULL`` means a committed decision survives the app being killed (``kill
-9``) or the machine losing power; nothing is ever updated or deleted, so an undo is itself a
logged event (``action='undo'``, ``target`` = the undone row) and the full history can be audited.

The current state of a record is the fold of its events that were not undone. Only records
that have events are kept in memory, so a 1M-row file with a few thousand decisions costs a
few thousand small objects.

Decisions are keyed by the row's position AND its content hash (``rhash``, xxh3 of the row's
bytes) and id: when the file changed under them (a line inserted above), `rebind` moves each
decision to the row that still has its content, and drops (with a warning) those whose row is
gone — an old "accepted" or edit never lands on a different record.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

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
    batch     INTEGER,               -- events made by one bulk action share a batch id
    rhash     TEXT                   -- content hash of the row the decision was made on
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
    rhash: str | None = None


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
        if "rhash" not in {r[1] for r in self.conn.execute("PRAGMA table_info(decisions)")}:
            self.conn.execute("ALTER TABLE decisions ADD COLUMN rhash TEXT")  # a store from an older version
        self._events: dict[int, list[Event]] = {}
        self._active: list[Event] = []  # not-undone, non-undo events in order: the undo stack
        self._undone: set[int] = set()
        self.states: dict[int, RecordState] = {}
        self._load()

    def _load(self) -> None:
        cols = "seq, ts, idx, action, record_id, reason, tag, member, message, content, target, batch, rhash"
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
                            "target, batch, rhash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                            (ev.ts, ev.idx, ev.record_id, ev.action, ev.reason, ev.tag, ev.member, ev.message,
                             ev.content, ev.target, ev.batch, ev.rhash))
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

    def record_many(self, idxs: Iterable[int], action: str, ids: Iterable[str | None],
                    rhashes: Iterable[str | None] | None = None, **kw) -> int:
        """One bulk action: every event shares a batch id, so one undo takes the whole batch back."""
        batch = int(time.time() * 1000)
        ts = _now()
        idxs = [int(i) for i in idxs]
        hashes = list(rhashes) if rhashes is not None else [None] * len(idxs)
        evs = [Event(0, ts, i, action, rid, batch=batch, rhash=h, **kw) for i, rid, h in zip(idxs, ids, hashes)]
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

    def rebind(self, row_hash: Callable[[int], str | None], n_rows: int) -> list[str]:
        """Match decisions to the file as it is now; returns warnings (empty when unchanged).

        A decision whose row at its position still has its content hash stays. Otherwise it
        moves to the row that has that content now (the nearest unclaimed one for duplicates);
        when no row has it, the decision is set aside (kept in the log, not applied, not
        exported). Decisions from stores without hashes keep their position.
        """
        stale = {ev.idx: ev.rhash for evs in self._events.values() for ev in evs
                 if ev.rhash is not None and (ev.idx >= n_rows or row_hash(ev.idx) != ev.rhash)}
        if not stale:
            return []
        where: dict[str, list[int]] = {}
        for i in range(n_rows):
            h = row_hash(i)
            if h is not None:
                where.setdefault(h, []).append(i)
        mapping: dict[int, int | None] = {}
        claimed: set[int] = set()
        for old, h in sorted(stale.items()):
            cands = [i for i in where.get(h or "", []) if i not in claimed]
            new = min(cands, key=lambda i: abs(i - old)) if cands else None
            mapping[old] = new
            if new is not None:
                claimed.add(new)
        moved = sum(1 for v in mapping.values() if v is not None)
        lost = len(mapping) - moved
        all_events = [ev for evs in self._events.values() for ev in evs]
        orphan = {ev.seq for ev in all_events if ev.idx in mapping and mapping[ev.idx] is None}
        for ev in all_events:
            if ev.idx in mapping and mapping[ev.idx] is not None:
                ev.idx = mapping[ev.idx]  # type: ignore[assignment]
        self._events = {}
        for ev in sorted(all_events, key=lambda e: e.seq):
            if ev.seq not in orphan:
                self._events.setdefault(ev.idx, []).append(ev)
        self._active = [e for e in self._active if e.seq not in orphan]
        self.states = {}
        for idx in self._events:
            self._refresh(idx)
        msg = [f"the file changed since the decisions in {self.path.name} were made: "
               f"{moved} record(s) moved and their decisions followed them"]
        if lost:
            msg.append(f"{lost} record(s) with decisions are no longer in the file: those decisions are set aside "
                       f"(kept in the log, not applied, not exported)")
        return msg

    def history(self) -> list[tuple]:
        return list(self.conn.execute("SELECT seq, ts, idx, action, reason, tag, target FROM decisions ORDER BY seq"))

    def close(self) -> None:
        self.conn.close()
