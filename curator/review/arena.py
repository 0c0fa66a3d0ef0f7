"""Blind A/B review of two models' answers (`curate review --compare A.jsonl B.jsonl`): the pairs,
and the decisions, persisted the moment they are made.

Pairs are matched by record id, or — when the two files' ids do not match — by the prompt
(the prompt turns' text). Which model is shown on the left is fixed per pair by a hash of the
seed and the pair key, so a resumed session, and every annotator, sees the same order, while
over the set each model is on the left about half the time. The labels A/B are never shown.

Decisions are rows of an append-only SQLite table (WAL, synchronous=FULL, one commit per key
press) carrying the annotator's name; an annotator who decides a pair again overrides their own
earlier decision (the latest counts), never anyone else's. Judge verdicts (`curate eval --arena
DB --judge ...`) are stored in the same file so agreement can be recomputed offline.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from curator.errors import UsageError
from curator.record import Conversation

CHOICES = ("left", "right", "tie", "both_bad")
SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        TEXT NOT NULL,
    pair_key  TEXT NOT NULL,
    annotator TEXT NOT NULL,
    a_left    INTEGER NOT NULL,   -- 1 when model A was shown on the left
    choice    TEXT NOT NULL,      -- left | right | tie | both_bad (what the annotator pressed)
    winner    TEXT NOT NULL,      -- a | b | tie | both_bad (unblinded)
    reason    TEXT
);
CREATE TABLE IF NOT EXISTS judge (
    pair_key TEXT NOT NULL,
    rubric   TEXT NOT NULL,
    winner   TEXT,                -- a | b | tie, or NULL when the verdict did not parse
    reason   TEXT,
    PRIMARY KEY (pair_key, rubric)
);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT);
"""


@dataclass
class Pair:
    key: str
    prompt: Conversation     # the prompt turns
    a: str                   # model A's answer
    b: str                   # model B's answer
    a_left: bool

    def sides(self) -> tuple[str, str]:
        return (self.a, self.b) if self.a_left else (self.b, self.a)


def _answer(conv: Conversation) -> str:
    m = conv.last("assistant")
    return m.content if m is not None else ""


def _prompt_key(conv: Conversation) -> str:
    return "\x1f".join(m.content for m in conv.prompt_messages())


def load_pairs(a_path: Path, b_path: Path, seed: int = 0) -> tuple[list[Pair], dict[str, int]]:
    """The pairs of two answer files, and counts of what could not be paired (reported, not hidden)."""
    from curator.io import read_records
    from curator.rejects import RejectSink

    sides = []
    bad: dict[str, int] = {}
    for label, p in (("a", a_path), ("b", b_path)):
        sink = RejectSink(None, stage="review-compare")
        sides.append(list(read_records(p, rejects=sink, allow=("no_assistant", "empty_content"))))
        bad[f"invalid_rows_{label}"] = len(sink)
    a_recs, b_recs = sides
    by_id = {c.id: c for c in b_recs if c.id}
    key_of = (lambda c: c.id) if a_recs and sum(c.id in by_id for c in a_recs) >= len(a_recs) / 2 else _prompt_key
    b_map = {key_of(c): c for c in b_recs}
    pairs, seen = [], set()
    for c in a_recs:
        k = key_of(c)
        other = b_map.get(k)
        if other is None or k in seen:
            continue
        seen.add(k)
        key = c.id if key_of is not _prompt_key else f"p{xxhash.xxh3_64_hexdigest(k.encode())}"
        a_left = xxhash.xxh3_64_intdigest(f"{seed}\x1f{key}".encode()) & 1 == 0
        pairs.append(Pair(key, Conversation(c.prompt_messages(), id=key, tools=c.tools), _answer(c), _answer(other), a_left))
    bad["unpaired_a"] = len(a_recs) - len(pairs)
    bad["unpaired_b"] = len(b_recs) - len(pairs)
    bad["paired_by"] = "id" if key_of is not _prompt_key else "prompt"  # type: ignore[assignment]
    return pairs, bad


def default_db(a_path: Path, b_path: Path) -> Path:
    return a_path.with_name(f"{a_path.stem}.vs.{b_path.stem}.arena.sqlite")


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


class ArenaStore:
    """The decision log of one A/B comparison."""

    def __init__(self, path: str | os.PathLike[str], a_path: Path | None = None, b_path: Path | None = None):
        self.path = Path(path)
        if a_path is None and not self.path.is_file():
            raise UsageError(f"{self.path}: no such arena database (made by curate review --compare A B)")
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise UsageError(f"{self.path}: not an arena database ({e})") from None
        info = dict(self.conn.execute("SELECT key, value FROM info"))
        if a_path is not None and b_path is not None:
            names = {"a": str(a_path), "b": str(b_path)}
            if info and (Path(info["a"]).name, Path(info["b"]).name) != (a_path.name, b_path.name):
                raise UsageError(f"{self.path} holds a comparison of {info['a']} and {info['b']}, not of these files "
                                 "— pass --db NEW.sqlite")
            if not info:
                self.conn.executemany("INSERT INTO info VALUES (?, ?)", names.items())
                info = names
        self.info = info

    def decide(self, pair: Pair, annotator: str, choice: str, reason: str | None = None) -> str:
        """Commit one decision; returns the unblinded winner (a, b, tie, both_bad)."""
        if choice not in CHOICES:
            raise ValueError(f"choice {choice!r}: one of {CHOICES}")
        winner = choice if choice in ("tie", "both_bad") else (
            "a" if (choice == "left") == pair.a_left else "b")
        self.conn.execute("INSERT INTO decisions (ts, pair_key, annotator, a_left, choice, winner, reason) "
                          "VALUES (?,?,?,?,?,?,?)", (_now(), pair.key, annotator, int(pair.a_left), choice, winner, reason))
        return winner

    def latest(self, annotator: str | None = None) -> dict[str, dict[str, str]]:
        """{annotator: {pair_key: winner}} — each annotator's latest decision per pair."""
        out: dict[str, dict[str, str]] = {}
        q = "SELECT annotator, pair_key, winner FROM decisions" + (" WHERE annotator = ?" if annotator else "") + " ORDER BY seq"
        for ann, key, winner in self.conn.execute(q, (annotator,) if annotator else ()):
            out.setdefault(ann, {})[key] = winner
        return out

    def decisions(self) -> list[dict[str, Any]]:
        """Every decision ever made, every annotator, in order (the export keeps them all)."""
        cols = ("seq", "ts", "pair_key", "annotator", "a_left", "choice", "winner", "reason")
        return [dict(zip(cols, r)) for r in self.conn.execute(f"SELECT {', '.join(cols)} FROM decisions ORDER BY seq")]

    def reasons(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT annotator, pair_key, winner, reason FROM decisions WHERE reason IS NOT NULL "
                                 "ORDER BY seq")
        return [{"annotator": a, "pair": k, "winner": w, "reason": r} for a, k, w, r in rows]

    def set_judge(self, rubric: str, verdicts: dict[str, tuple[str | None, str]]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany("INSERT OR REPLACE INTO judge VALUES (?,?,?,?)",
                              [(k, rubric, w, r) for k, (w, r) in verdicts.items()])
        self.conn.execute("COMMIT")

    def judge(self) -> dict[str, dict[str, str | None]]:
        """{rubric: {pair_key: winner or None}}."""
        out: dict[str, dict[str, str | None]] = {}
        for key, rubric, winner in self.conn.execute("SELECT pair_key, rubric, winner FROM judge"):
            out.setdefault(rubric, {})[key] = winner
        return out

    def close(self) -> None:
        self.conn.close()
