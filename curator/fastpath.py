"""The plain-row path: from a decoded JSON row straight to the canonical output bytes.

Most rows of a real file are plain — Alpaca's three strings, or a canonical row of user/assistant
turns — and for them the general path (format `parse` -> `Conversation` -> `validate.check` ->
stage -> format `render` -> orjson) builds objects only to take them apart again; that was most of
`curate convert`'s and `curate validate`'s time. `PlainPath` recognises a plain row with a few
exact type checks, runs what `curator.validate.check` would run on it (for a plain row the checks
reduce to: no empty text, no ``{{slot}}``, no bad character), and builds the output with the very
dict operations of the general path, in the same order, so the bytes are the same.

Anything else — another type, a tool call, a weight, a column mapping, a think block it cannot
split, any problem at all — returns None, and the row takes the general path, which owns every
message and every reject. So this path never decides that a row is bad; it only recognises rows
that are certainly good. `tests/test_fastpath.py` compares the two paths row by row on the real
data and on hostile rows.
"""

from __future__ import annotations

import io
import re
from typing import Any, Callable, Iterator

import orjson

from curator.errors import RowError
from curator.formats.common import ReadOptions, split_think
from curator.io import jsonl_row
from curator.record import _SEP_MSG, hash_parts
from curator.validate import _BAD_CHAR, line_is_clean

_ALPACA_KNOWN = frozenset({"instruction", "input", "output", "system", "history", "id"})
_ROW_KEYS = frozenset({"id", "messages", "meta"})
_MSG_KEYS = frozenset({"role", "content", "reasoning_content"})
# "{{" in a raw line: a regex with a literal prefix scans faster than `b"{{" in line`
_SLOT_RE = re.compile(rb"\{\{")
# meta fields whose type `curator.io._meta_problem` checks: only these exact types pass here
_META_TYPES = (("lineage", list), ("source", str), ("scores", dict), ("tags", list))


def _good_text(text: str, clean: bool, slots: bool) -> bool:
    """`validate.check` finds nothing in this text: no slot candidate ("{{"; the general path
    decides whether it is one) and, unless the raw line was screened clean, no bad character.
    `slots=False`: the raw line holds no "{{", so no text does."""
    return (not slots or "{{" not in text) and (clean or _BAD_CHAR.search(text) is None)


def _line_key(tag: str) -> bytes | None:
    """The longest piece of `tag` that a clean JSON line (`validate.line_is_clean`: no \\u escape)
    holds byte for byte wherever a text holds the tag: JSON may escape '"', '\\' and '/' (and must
    escape control characters), and nothing else without \\u. None when no such piece exists."""
    pieces = [p for p in re.split(r'["\\/\x00-\x1f]', tag) if p]
    return max(pieces, key=len).encode("utf-8") if pieces else None


def _gate(key: bytes) -> bytes:
    """One byte of `key` to look for first: its first one that is no letter, digit or space
    (rare in text, found at memchr speed: ">" of "think>"), else its first. A line without it
    cannot hold the key, and most lines have none."""
    return next((bytes([c]) for c in key if not (chr(c).isalnum() or c == 0x20)), key[:1])


def _row_id(row: dict[str, Any]) -> str | None:
    """The id the formats give a row (`str(id)`, "" when absent), or None for a type left to them."""
    rid = row.get("id")
    if rid is None:
        return ""
    t = type(rid)
    if t is str:
        return rid
    if t is int:
        return str(rid)
    return None


def turns_id(turns: list[tuple[str, str, str | None]]) -> str:
    """The id `Conversation` gives a row without one: the hash of its (role, content, reasoning) turns."""
    parts: list[str] = []
    for role, content, reasoning in turns:
        parts += (role, content, reasoning, _SEP_MSG) if reasoning else (role, content, _SEP_MSG)
    return hash_parts(parts)


def render_turns(rid: str, turns: list[tuple[str, str, str | None]], meta: dict[str, Any], step: str | None) -> bytes:
    """A plain record as `messages.render` writes it, after a stage added `step` to its lineage."""
    if step is not None:
        lineage = meta.get("lineage")
        if lineage is None:
            meta["lineage"] = [step]
        else:
            lineage.append(step)
    msgs = [{"role": r, "content": c} if x is None else {"role": r, "content": c, "reasoning_content": x}
            for r, c, x in turns]
    return orjson.dumps({"id": rid, "messages": msgs, "meta": meta})



def json_lines(data: bytes, first: int) -> Iterator[tuple[int, bytes, Any, bool]]:
    """(line number, line, row, clean) for each row of a UTF-8 JSON Lines range, as `io._iter_jsonl`
    numbers and screens them; `row` is a `RawRow` (for the general path) where orjson cannot read
    the line as the reader would (bad JSON, a byte-order mark, an id past 64 bits). Blank lines,
    which are no rows, are left out."""
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for i, line in enumerate(io.BytesIO(data), first):
        try:
            row = loads(line)
        except decode_error:
            raw = jsonl_row(line, i, None)
            if raw is not None:
                yield i, line, raw, False
            continue
        if type(row) is dict and type(row.get("id")) is float:  # an id past 64 bits, read exactly
            raw = jsonl_row(line, i, None)
            if raw is not None:
                yield i, line, raw, False
            continue
        yield i, line, row, line_is_clean(line)


class PlainPath:
    """`path(row, clean, line)` -> the output row as bytes (b"" when `render` is off), or None when
    the row must take the general path. `clean`: `validate.line_is_clean` of the raw line; `line`:
    the raw line itself when there is one, so that one search of the line can stand for a search
    of every text (a clean line holds a text's characters byte for byte). `step`: the lineage step
    a stage adds (convert), or None (validate adds none). `name`: the input's file name, for
    meta.source."""

    def __init__(self, fmt: str, *, name: str, opts: ReadOptions, step: str | None, render: bool):
        self.name = name
        self.step = step
        self.render = render
        self.split = opts.split_think
        self.tags = (opts.think_open, opts.think_close)
        self.opts = opts
        keys = [_line_key(t) for t in self.tags]
        # a key that holds another key is found wherever that one is: search only the shortest
        # ("think>" stands for both "<think>" and "</think>")
        self._think_keys: list[bytes] | None = (None if None in keys else  # type: ignore[assignment]
                                                [(_gate(k), k) for k in keys if not any(o in k and o != k for o in keys)])
        self._row: Callable[[dict[str, Any], bool, bool, bool], bytes | None] = {
            "alpaca": self._alpaca, "messages": self._messages}[fmt]

    def __call__(self, row: Any, clean: bool, line: bytes | None = None) -> bytes | None:
        if type(row) is not dict:
            return None
        if line is None or not clean:
            return self._row(row, clean, True, True)
        keys = self._think_keys
        think = keys is None
        if not think:
            for gate, k in keys:  # type: ignore[union-attr]
                if gate in line and k in line:
                    think = True
                    break
        return self._row(row, clean, _SLOT_RE.search(line) is not None, think)

    # -- helpers shared by the formats ----------------------------------------------------------
    def _answer(self, text: str, where: str | int) -> tuple[str | None, str] | None:
        """(reasoning, answer) as `split_think` gives them, or None when it would raise. Called
        only where the raw line may hold a tag; `where`: "output", or the message's index."""
        o, c = self.tags
        if not self.split or (c not in text and o not in text):
            return None, text
        field = where if isinstance(where, str) else f"messages[{where}].content"
        try:
            reasoning, answer = split_think(text, self.opts, field)
        except RowError:
            return None
        return reasoning or None, answer

    def _finish(self, rid: str, turns: list[tuple[str, str, str | None]], meta: dict[str, Any]) -> bytes:
        """Id, meta.source, lineage and the rendered row, in the general path's order:
        `Conversation.__post_init__`, `io.parse_rows`, the stage, then `messages.render`.
        Without an output (validate) the row is good, and nothing more is needed."""
        if not self.render:
            return b""
        return render_turns(self._complete(rid, turns, meta), turns, meta, self.step)

    def _complete(self, rid: str, turns: list[tuple[str, str, str | None]], meta: dict[str, Any]) -> str:
        """The record's id, with meta.id_hashed and meta.source set as `Conversation` and
        `io.parse_rows` set them: the record as a stage sees it."""
        if not rid:
            rid = turns_id(turns)
            meta["id_hashed"] = True
        if "source" not in meta:
            meta["source"] = self.name
        return rid


    # -- Alpaca (curator.formats.alpaca.parse) --------------------------------------------------
    def _alpaca(self, row: dict[str, Any], clean: bool, slots: bool, think: bool) -> bytes | None:
        instruction = row.get("instruction")
        inp = row.get("input")
        output = row.get("output")
        system = row.get("system")
        if (type(instruction) is not str or type(output) is not str or (inp is not None and type(inp) is not str)
                or (system is not None and type(system) is not str) or row.get("history")):
            return None
        rid = _row_id(row)
        if rid is None:
            return None
        scan = slots or not clean  # else no text can hold a slot or a bad character
        turns: list[tuple[str, str, str | None]] = []
        if system:
            if not system.strip() or (scan and not _good_text(system, clean, slots)):
                return None
            turns.append(("system", system, None))
        user = f"{instruction}\n{inp}" if instruction and inp else instruction or inp or ""
        if not user.strip() or (scan and not _good_text(user, clean, slots)):
            return None
        turns.append(("user", user, None))
        reasoning, answer = None, output
        if think:
            split = self._answer(output, "output")
            if split is None:
                return None
            reasoning, answer = split
        if not answer.strip() and not reasoning:
            return None  # no answer (an empty output, or an empty turn): the general path says which
        if scan and (not _good_text(answer, clean, slots)
                     or (reasoning is not None and not _good_text(reasoning, clean, slots))):
            return None
        turns.append(("assistant", answer, reasoning))
        meta: dict[str, Any] = {}
        if inp:
            meta["alpaca_input"] = inp
        if not row.keys() <= _ALPACA_KNOWN:
            meta["extra"] = {k: v for k, v in row.items() if k not in _ALPACA_KNOWN}
        return self._finish(rid, turns, meta)

    # -- canonical messages (curator.formats.messages.parse) ------------------------------------
    def _messages(self, row: dict[str, Any], clean: bool, slots: bool, think: bool) -> bytes | None:
        msgs = row.get("messages")
        if type(msgs) is not list or not row.keys() <= _ROW_KEYS:
            return None
        meta = row.get("meta")
        if meta is None:
            meta = {}
        elif type(meta) is dict:
            for key, typ in _META_TYPES:
                v = meta.get(key, typ)
                if v is not typ and type(v) is not typ:
                    return None
            if self.render:
                meta = dict(meta)
        else:
            return None
        rid = _row_id(row)
        if rid is None:
            return None
        # the one turn order `validate.check` has nothing to say about: [system], user, assistant, ...
        start = 1 if msgs and type(msgs[0]) is dict and msgs[0].get("role") == "system" else 0
        if len(msgs) - start < 2 or (len(msgs) - start) % 2:
            return None
        scan = slots or not clean  # else no text can hold a slot or a bad character
        turns: list[tuple[str, str, str | None]] = []
        for i, m in enumerate(msgs):
            if type(m) is not dict or not m.keys() <= _MSG_KEYS:
                return None
            role = m.get("role")
            content = m.get("content")
            if type(content) is not str:
                return None
            if i < start:
                if role != "system":
                    return None
            elif role != ("user" if (i - start) % 2 == 0 else "assistant"):
                return None
            reasoning = m.get("reasoning_content")
            if reasoning is not None:
                if type(reasoning) is not str:
                    return None
                reasoning = reasoning or None
            elif think and role == "assistant":
                split = self._answer(content, i)
                if split is None:
                    return None
                reasoning, content = split
            if not content.strip() and not (role == "assistant" and reasoning):
                return None
            if scan and (not _good_text(content, clean, slots)
                         or (reasoning is not None and not _good_text(reasoning, clean, slots))):
                return None
            turns.append((role, content, reasoning))
        return self._finish(rid, turns, meta)
