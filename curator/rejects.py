"""The reject sink: where every dropped row goes, with a reason code and a sentence.

Nothing is lost: a stage that drops a record calls `RejectSink.add`, and the command writes
`<out>.rejects.jsonl` atomically at the end. Each line is
``{"reason", "message", "stage", "source", "line", "id", "duplicate_of"?, "record"}`` where
`record` is the original row (for read errors) or the canonical record (for later stages), so
a reject can be fixed and fed back in.
"""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from curator.atomic import AtomicFile
from curator.record import Conversation
from curator.redact import redact, redact_text


def rejects_path(out: str | Path) -> Path:
    """`data.jsonl` -> `data.rejects.jsonl` (any data suffix is replaced)."""
    return _sibling(out, ".rejects.jsonl")


def manifest_path(out: str | Path) -> Path:
    return _sibling(out, ".manifest.json")


def _sibling(out: str | Path, suffix: str) -> Path:
    p = Path(out)
    name = p.name
    for ext in (".jsonl.gz", ".json.gz", ".jsonl", ".json", ".parquet", ".html", ".csv"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return p.with_name(name + suffix)


class RejectSink:
    """Collects rejects for one command. Streams to a temp file so memory stays flat.

    `held`: while a list, `add` queues its arguments there instead of recording them — a stage
    that reads records ahead (the filter's batches) replays the reader's rejects in input order."""

    held: list[tuple[str, str, dict[str, Any]]] | None = None

    def __init__(self, path: str | Path | None, stage: str = ""):
        self.path = Path(path) if path is not None else None
        self.stage = stage
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[dict[str, Any]]] = {}
        self._file = AtomicFile(self.path, "wb") if self.path is not None else None
        self._fh: BinaryIO | None = self._file.fh if self._file is not None else None

    def __len__(self) -> int:
        return sum(self.counts.values())

    def add(
        self,
        reason: str,
        message: str,
        *,
        record: Any = None,
        source: str | None = None,
        line: int | None = None,
        id: str | None = None,
        stage: str | None = None,
        **extra: Any,
    ) -> None:
        """Record one dropped row. `record` may be a raw row, a string or a Conversation."""
        if self.held is not None:
            self.held.append((reason, message, dict(record=record, source=source, line=line, id=id, stage=stage,
                                                    **extra)))
            return
        if isinstance(record, Conversation):
            if source is None and record.origin:
                source, line = record.origin
            id = id or record.id
            record = record.to_dict()
        entry = self._entry(reason, message, source, line, id, stage, extra)
        entry["record"] = record
        if self._fh is not None:
            self._fh.write(orjson.dumps(entry, default=str) + b"\n")

    def add_serialised(self, reason: str, message: str, record_json: bytes, *, source: str | None,
                       line: int | None, id: str | None, **extra: Any) -> None:
        """`add` of a record already serialised with orjson (`record_json` is the bytes
        `orjson.dumps(record)` gives): spliced into the line as it is, the same bytes as `add`
        writes, without building and dumping the record again (dedup's plain-row route)."""
        if self.held is not None:
            self.add(reason, message, record=orjson.loads(record_json), source=source, line=line, id=id, **extra)
            return
        entry = self._entry(reason, message, source, line, id, None, extra)
        if self._fh is not None:
            head = orjson.dumps(entry, default=str)  # '{...}': never empty, it holds the reason
            self._fh.write(head[:-1] + b',"record":' + record_json + b"}\n")

    def add_line(self, line: bytes) -> None:
        """A reject line another `RejectSink` wrote with this one's secrets (a forked worker's):
        counted and written as it is. Everything `add` would change in it was done when it was made."""
        entry = orjson.loads(line)
        if self.held is not None:
            self.add(**entry)
            return
        reason = entry["reason"]
        self.counts[reason] += 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < 5:
            entry.pop("record", None)
            ex.append(entry)
        if self._fh is not None:
            self._fh.write(line + b"\n")

    def _entry(self, reason: str, message: str, source: str | None, line: int | None, id: str | None,
               stage: str | None, extra: dict[str, Any]) -> dict[str, Any]:
        """A reject line's fields before its record (redacted), counted and kept as an example."""
        entry: dict[str, Any] = {
            "reason": reason,
            "message": redact_text(message),
            "stage": stage or self.stage,
            "source": source,
            "line": line,
            "id": id,
        }
        entry.update(redact(extra))
        self.counts[reason] += 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < 5:
            ex.append(dict(entry))
        return entry

    def reject(self, conv: Conversation, reason: str, message: str, **extra: Any) -> None:
        """Shorthand for stages: drop a Conversation, naming its input line in the message."""
        where = f"{conv.origin[0]}:{conv.origin[1]}: " if conv.origin else ""
        if "ref" in extra and conv.origin:
            # `dedup --rejects-mode ref`: the line points back to the input (file, byte offset, hash)
            # instead of copying the record; `curator.formats.rejects` resolves it when read back
            extra = {**extra, "source": conv.origin[0], "line": conv.origin[1], "id": conv.id}
            conv = None  # type: ignore[assignment]
        self.add(reason, f"{where}{message}" if where and not message.startswith(where) else message,
                 record=conv, **extra)

    def close(self, commit: bool = True) -> None:
        """Finish the file; with commit=False it stays a temp file until `commit()` (the command
        publishes output, rejects and manifest in a fixed order, see curator.runner)."""
        if self._file is not None:
            self._file.finish()
            self._fh = None
            if commit:
                self.commit()

    def commit(self) -> None:
        if self._file is not None:
            self._file.commit()
            self._file = None

    def abort(self) -> None:
        """Drop the temp file (the command failed before finishing)."""
        if self._file is not None:
            self._file.abort()
            self._file = None
            self._fh = None


def read_rejects(path: str | Path) -> list[dict[str, Any]]:
    """Load a rejects file (tests, review queues)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]
