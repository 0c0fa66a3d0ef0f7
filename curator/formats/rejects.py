"""A rejects file (`<out>.rejects.jsonl`) read back as ordinary input.

Every command writes its drops as ``{"reason", "message", "stage", "source", "line", "id", "record"}``
so they "can be fixed and fed back"; this format makes that true: the row's `record` (canonical or
the original raw row, in any format) is unwrapped and parsed by its own format (a `dedup
--rejects-mode ref` row holds a `ref` to its input line instead: the line is read back from there
and verified, see `curator.reject_refs`). The verdict that
rejected it is kept in ``meta.rejected`` (reason, stage, message, where it came from): `curate
distill` regenerates the answer of a record whose answer was rejected, and a filter that now keeps
it clears the mark.

A row whose `record` is not a record (a line that was not JSON) is rejected again with the original
message and where to fix it. A record that is still invalid (``asistant``) is rejected again with
the reader's own message — fix it in `curate review` (one key) or in the source.
Input only: writing "rejects" is not a format (each command writes its own rejects file).
"""

from __future__ import annotations

import sys
from typing import Any

from curator.errors import RowError
from curator.formats.common import ReadOptions, WriteOptions
from curator.formats.record_formats import RECORD_FORMATS, detect_record_format, find_format
from curator.record import Conversation

NAME = "rejects"
_MARK = "rejected"


def matches(row: dict[str, Any]) -> bool:
    return "record" in row and "reason" in row and "messages" not in row


def _inner_format(rec: dict[str, Any]):
    # Only a record format: a row that looks like a reject itself is not a record inside a reject.
    # (`rejects` is tried after every record format, so this is what the package's detection gives.)
    return detect_record_format(rec)


def parse(row: dict[str, Any], opts: ReadOptions) -> Conversation:
    # A reject of a reject (a rejects file whose record was still invalid) wraps the same record
    # again: unwrap to the innermost, whose verdict is the one about the record itself.
    while isinstance(row.get("record"), dict) and matches(row["record"]):
        row = row["record"]
    if not matches(row):  # a plain record among the rejects (a fixed row appended by hand): read it as is
        fmt = _inner_format(row)
        if fmt is None:
            raise RowError("bad_structure", f"neither a reject nor a record in a known format (keys {sorted(row)[:8]})",
                           fix="pass --from for its format")
        return fmt.parse(row, opts)
    rec = row.get("record")
    where = f"{row.get('source')}:{row.get('line')}" if row.get("source") else "its source"
    if rec is None and isinstance(row.get("ref"), dict):  # `dedup --rejects-mode ref`: read the line back
        return _marked(_from_ref(row, opts), row)
    if not isinstance(rec, dict):
        raise RowError(str(row.get("reason") or "bad_structure"),
                       f"this reject holds no record, only the raw text ({row.get('message')})",
                       fix=f"fix the original line in {where} and read that file again")
    fmt = _inner_format(rec)
    if fmt is None:
        raise RowError("bad_structure", f"the rejected record has no known format (keys {sorted(rec)[:8]})",
                       fix=f"fix it in {where}, or pass --from for its format")
    return _marked(fmt.parse(rec, opts), row)


def _marked(conv: Conversation, row: dict[str, Any]) -> Conversation:
    """The verdict that rejected the record, kept in its meta."""
    conv.meta[_MARK] = {k: row[k] for k in ("reason", "stage", "message", "source", "line") if row.get(k) is not None}
    return conv


def _from_ref(row: dict[str, Any], opts: ReadOptions) -> Conversation:
    """The record a reference reject points at (`curator.reject_refs`), parsed as its input was."""
    from pathlib import Path

    from curator.reject_refs import resolve

    ref = row["ref"]
    rec = resolve(ref)
    # the same lookup as `curator.formats.get_format`, over the same formats, this one included
    fmt = find_format({**RECORD_FORMATS, NAME: sys.modules[__name__]}, ref["format"]) if ref.get("format") \
        else _inner_format(rec)
    if fmt is None:
        raise RowError("bad_structure", f"the referenced record has no known format (keys {sorted(rec)[:8]})",
                       fix="pass --from for its format")
    conv = fmt.parse(rec, opts)
    if "source" not in conv.meta and row.get("source"):  # as the reader that first read it set it
        conv.meta["source"] = Path(str(row["source"])).name
    if row.get("id") is not None and conv.id != row["id"]:
        raise RowError("ref_changed", f"the referenced line {ref.get('file')}:{ref.get('line')} holds record "
                       f"{conv.id!r}, not {row['id']!r}", fix="restore the file dedup read, or run dedup again")
    return conv


def render(conv: Conversation, opts: WriteOptions) -> dict[str, Any]:
    raise RowError("unrepresentable", "'rejects' is an input format only",
                   fix="write messages (the default) or another format")
