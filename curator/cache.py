"""The generation cache: every completed request, stored in SQLite the moment it finishes.

This is what makes a paid run resumable. After Ctrl-C, `kill -9`, a crash or a lost connection,
re-running the same command sends no request whose answer is already here, and produces the same
output. The key is a SHA-256 of (backend kind, base URL, model, messages, sampling parameters,
sample index) — everything that decides the answer and nothing else (no API key, no caller tags).

WAL mode with synchronous=NORMAL: each answer is one small committed transaction (~tens of µs),
durable once committed against a killed process (only power loss can take the last few), and a
reader never blocks the writer. Only failures are NOT cached: a re-run retries them.

A damaged cache file ("file is not a database", "database disk image is malformed") is a usage
error naming the file and the two ways out (--no-cache, or move it aside), never a traceback. Rows
hold answers only; error messages (which could quote a key) are never stored.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson

from curator.backends.base import GenerationRequest, GenerationResult
from curator.errors import UsageError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key     TEXT PRIMARY KEY,
    result  BLOB NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(identity: dict[str, Any], request: GenerationRequest) -> str:
    """Stable across runs and machines: canonical JSON (sorted keys) of what decides the answer."""
    payload = {
        "backend": identity,
        "messages": request.messages,
        "params": request.params.to_dict(),
        "sample": request.sample,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ResponseCache:
    """A key -> GenerationResult store. One connection, used from one thread (the event loop)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute(_SCHEMA)
            self._db.execute("SELECT key FROM responses LIMIT 1").fetchall()
        except sqlite3.DatabaseError as e:
            raise self.damaged(e) from None
        self.hits = 0
        self.stores = 0

    def damaged(self, e: Exception) -> UsageError:
        return UsageError(f"{self.path}: the cache file is damaged ({e}); run again with --no-cache, or move it "
                          f"aside to start a fresh cache: mv {self.path} {self.path}.damaged")

    def get(self, key: str) -> GenerationResult | None:
        try:
            row = self._db.execute("SELECT result FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            result = GenerationResult.from_dict(orjson.loads(row[0]), cached=True)
        except sqlite3.DatabaseError as e:
            raise self.damaged(e) from None
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None  # an unreadable row is a miss: the request is sent again and the row replaced
        self.hits += 1
        return result

    def put(self, key: str, result: GenerationResult) -> None:
        """Store at once (autocommit): the answer survives whatever happens next."""
        try:
            self._db.execute("INSERT OR REPLACE INTO responses (key, result, created) VALUES (?, ?, ?)",
                             (key, orjson.dumps(result.to_dict()), time.time()))
        except sqlite3.DatabaseError as e:
            raise self.damaged(e) from None
        self.stores += 1

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ResponseCache":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def default_cache_path(out) -> Path:
    """The cache a generating command keeps beside its output: `data.jsonl` -> `data.cache.sqlite`
    (`answers.v2.jsonl` -> `answers.v2.cache.sqlite`), named like the rejects and manifest files."""
    from curator.rejects import manifest_path

    m = manifest_path(out)
    return m.with_name(m.name[: -len(".manifest.json")] + ".cache.sqlite")
