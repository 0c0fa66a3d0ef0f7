"""Helpers shared by the format readers and writers: role suggestions, text parts, think tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from curator.errors import RowError

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How readers interpret rows. `mapping` maps our field names to the file's
    (``{"instruction": "question"}``; tag names as ``{"tag.user": "customer"}``)."""

    mapping: tuple[tuple[str, str], ...] = ()
    think_open: str = THINK_OPEN
    think_close: str = THINK_CLOSE
    split_think: bool = True

    @property
    def tag_map(self) -> dict[str, str]:
        return {theirs: ours[4:] for ours, theirs in self.mapping if ours.startswith("tag.")}

    @property
    def column_map(self) -> dict[str, str]:
        return {ours: theirs for ours, theirs in self.mapping if not ours.startswith("tag.")}


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """How writers render records. `reasoning`: "auto" (the format's native place: the
    `reasoning_content` field for messages, tags elsewhere), "field", "tags" or "drop"."""

    reasoning: str = "auto"
    strip_meta: bool = False
    think_open: str = THINK_OPEN
    think_close: str = THINK_CLOSE


DEFAULT_READ = ReadOptions()
DEFAULT_WRITE = WriteOptions()


def suggest(word: str, choices: Iterable[str], max_distance: int = 3) -> str | None:
    """The closest known name by edit distance ("asistant" -> "assistant"), or None."""
    best = process.extractOne(word.lower(), list(choices), scorer=Levenshtein.distance)
    if best is not None and best[1] <= max_distance:
        return best[0]
    return None


def rename_columns(row: dict[str, Any], column_map: dict[str, str]) -> dict[str, Any]:
    """Apply a user mapping (ours -> theirs) to one row, without touching the original."""
    if not column_map:
        return row
    row = dict(row)
    for ours, theirs in column_map.items():
        if theirs in row and ours not in row:
            row[ours] = row.pop(theirs)
    return row


def text_of(value: Any, field: str) -> str:
    """Content as text: a string, None, or a list of text parts
    (``{"type": "text", "text"|"value": ...}``). Anything else is a row error."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        out = []
        for i, part in enumerate(value):
            if isinstance(part, str):
                out.append(part)
                continue
            if not isinstance(part, dict):
                raise RowError("non_text_content", f"{field}[{i}] is a {type(part).__name__}, not a text part",
                               field=field, fix='use {"type": "text", "text": "..."}')
            ptype = part.get("type", "text")
            if ptype != "text":
                raise RowError("non_text_content",
                               f"{field}[{i}] is a '{ptype}' part; only text parts are supported",
                               field=field, fix="remove non-text parts or describe them in text")
            t = part.get("text", part.get("value"))
            if not isinstance(t, str):
                raise RowError("non_text_content", f"{field}[{i}] has no text", field=field,
                               fix='give the part a "text" string')
            out.append(t)
        return "".join(out)
    kind = type(value).__name__
    raise RowError("non_text_content", f"{field} is a {kind}, not text", field=field,
                   fix="content must be a string (or a list of text parts)")


def split_think(content: str, opts: ReadOptions, field: str) -> tuple[str | None, str]:
    """Split an R1-style ``<think>...</think>answer`` into (reasoning, answer).

    Only a block at the start counts (that is where reasoning models put it); an opening tag
    without its closing tag is a truncated generation and a row error.
    """
    o, c = opts.think_open, opts.think_close
    stripped = content.lstrip()
    if not stripped.startswith(o):
        if c in content and o not in content:
            # Some templates (DeepSeek-R1 distills) emit the opening tag in the prompt, so the
            # completion starts mid-thought and only the closing tag appears.
            reasoning, _, answer = content.partition(c)
            return reasoning.strip("\n"), answer.lstrip("\n")
        return None, content
    end = stripped.find(c, len(o))
    if end < 0:
        raise RowError("unterminated_think", f"{field} opens {o} but never closes it (truncated reasoning?)",
                       field=field, fix=f"close the block with {c}, or regenerate the answer")
    reasoning = stripped[len(o):end].strip("\n")
    answer = stripped[end + len(c):].lstrip("\n")
    return reasoning, answer


def join_think(reasoning: str | None, content: str, opts: WriteOptions) -> str:
    if not reasoning or opts.reasoning == "drop":
        return content
    return f"{opts.think_open}\n{reasoning}\n{opts.think_close}\n\n{content}"


def extras(row: dict[str, Any], known: frozenset[str]) -> dict[str, Any] | None:
    """Columns a format does not know: kept in meta.extra so round trips give them back."""
    if row.keys() <= known:  # the common case, one C-level set comparison
        return None
    ex = {k: v for k, v in row.items() if k not in known}
    return ex or None
