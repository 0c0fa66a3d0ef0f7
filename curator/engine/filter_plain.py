"""`curate filter` over one JSON Lines range with plain rows kept off the general path.

The general path parses every row into a `Conversation` (the format's `parse`, then validation),
runs the filter chain's batch screens over a batch of them (`FilterChain.check_many`) and renders
each kept record again: for the ~90% of rows that every screen proves the chain keeps, the
`Conversation` is built only to be taken apart. Here a row the plain-row path (`curator.fastpath`)
recognises — one it has checked is certainly good, by the rules `validate.check` applies — gives
its (role, content, reasoning) turns and meta instead (`FilterTurns`), the chain's screens run on a
batch of those (`BatchView.of_turns`: the very lists a batch of `Conversation`s gives them), and a
row proven kept goes from the orjson row straight to its output bytes with "filter" as its lineage
step (`fastpath.render_turns`): the bytes `Filter` + the format's `render` give.

Everything else takes the general path (`tasks.parse_range_rows` and the bound `Filter` stage), in
one batch per batch of plain rows: a row some screen does not prove (the filter itself then runs,
and a drop's reject carries the parsed record), a row the plain path declines, a line orjson cannot
read, a record whose meta the stage treats apart (a reviewer's decision, PII already masked, an
old reject verdict). Plain rows never make a reject, so the general path's rejects stay in input
order; its kept records come back with their line numbers and are merged with the plain ones.
`tests/test_filter_plain.py` compares the two routes on real data and hostile rows.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any, Callable, Iterable

from curator.fastpath import PlainPath, json_lines, render_turns
from curator.filters.chain import proven_by
from curator.gc_tuning import rare_young_collections
from curator.filters.screen import BatchView
from curator.raw_row import RawRow

STEP = "filter"  # the lineage step `tasks.Filter` adds to a kept record
BATCH = 1024  # plain rows per screen pass, as `tasks.FILTER_BATCH`: big enough to pay for the array passes
# a record every screen can prove, to ask a chain whether it can prove any (`provable`)
_PROBE = ([("user", "q", None), ("assistant", "a", None)], {})

General = Callable[[list[RawRow]], Iterable[tuple[int, bytes]]]


class FilterTurns(PlainPath):
    """The plain-row path stopped before rendering: (id, turns, meta) of a certainly good row, with
    id, meta.id_hashed and meta.source as the record reaches the stage; meta is the row's copy."""

    def __init__(self, fmt: str, *, name: str, opts: Any):
        super().__init__(fmt, name=name, opts=opts, step=STEP, render=True)

    def _finish(self, rid: str, turns: list[tuple[str, str, str | None]], meta: dict[str, Any]) -> Any:
        return self._complete(rid, turns, meta), turns, meta


@lru_cache(maxsize=None)  # chains are built once per worker and kept (`tasks._chain`)
def provable(chain: Any) -> bool:
    """Can the chain's screens ever prove a record kept? Not with a filter that edits, nor with
    one that has no screen for its parameters (a language or user filter): then every row would
    take the general path, and this route only costs time. Screens return None by parameters,
    never by data, so one probe record answers for all."""
    turns, meta = _PROBE
    return chain.proofs(BatchView.of_turns([turns], [dict(meta)])) is not None


class FilterRoute:
    """The route for one range: `lines(...)` filters its plain rows here and hands every other row
    to the general path, in input order. `stage`: the `tasks.Filter` stage (its `settle` carries
    out a verdict); `chain`: its `FilterChain`, whose screens can prove records (`provable`)."""

    def __init__(self, stage: Any, chain: Any, fmt: str, opts: Any, label: str, name: str):
        from curator.formats import get_format

        self.stage, self.chain = stage, chain
        self.plain = FilterTurns(fmt, name=name, opts=opts)
        self.parse = get_format(fmt).parse
        self.opts, self.label, self.name = opts, label, name

    def lines(self, data: bytes, first: int, general: General, reject: Callable[..., None], counts: Counter,
              render: Callable[[Any], list[bytes]], out: list[bytes], batch: int = BATCH) -> tuple[int, int]:
        """The output rows of a UTF-8 JSON Lines range, in input order, into `out`; returns (rows
        this route read, rows it kept) — `general` counts the rows it reads itself. `general(raws)`:
        the kept records of those raw rows as (line number, output bytes), in input order;
        `reject`, `counts`: the stage's; `render(conv)`: a kept record's output rows."""
        with rare_young_collections():
            return self._lines(data, first, general, reject, counts, render, out, batch)

    def _lines(self, data: bytes, first: int, general: General, reject: Callable[..., None], counts: Counter,
               render: Callable[[Any], list[bytes]], out: list[bytes], batch: int) -> tuple[int, int]:
        plain = self.plain
        entries: list[Any] = []  # per row, in input order: a RawRow, or the index of a plain row in `recs`
        recs: list[tuple[int, Any, Any, bool, bytes]] = []  # (line number, (id, turns, meta), row, clean, line)
        read = kept = 0
        for i, line, row, clean in json_lines(data, first):
            if type(row) is RawRow:
                entries.append(row)
                continue
            rec = plain(row, clean, line)
            if rec is None:
                entries.append(RawRow(i, row, None, None, clean))
                continue
            entries.append(len(recs))
            recs.append((i, rec, row, clean, line))
            if len(recs) >= batch:
                r, k = self._flush(entries, recs, general, reject, counts, render, out)
                read, kept, entries, recs = read + r, kept + k, [], []
        if entries:
            r, k = self._flush(entries, recs, general, reject, counts, render, out)
            read, kept = read + r, kept + k
        return read, kept

    def _flush(self, entries: list[Any], recs: list, general: General, reject: Callable[..., None], counts: Counter,
               render: Callable[[Any], list[bytes]], out: list[bytes]) -> tuple[int, int]:
        """One batch: screen the plain records; render the ones every screen proves kept; run the
        filters not proven on the others (parsed as the general path parses them); send the rest
        through `general`, each run of them just before the next record that may make a reject."""
        sures: list[Any] = []
        sure: list[bool] = []
        if recs:
            view = BatchView.of_turns([r[1][1] for r in recs], [r[1][2] for r in recs], [r[4] for r in recs],
                                      [r[3] for r in recs])
            sures = self.chain.proofs(view)
            sure = proven_by(sures, len(recs)).tolist()
        pairs: list[tuple[int, bytes]] = []  # (line, output row), in input order until `general` adds some
        pending: list[RawRow] = []
        read = kept = 0
        merged = False  # whether `pairs` needs sorting
        for e in entries:
            if type(e) is not int:
                pending.append(e)
                continue
            i, (rid, turns, meta), row, clean, _ = recs[e]
            # meta `tasks.Filter` reads: a reviewer's acceptance (kept unfiltered), PII masked by an
            # earlier run (counted), an old reject verdict (removed): such records take the general path
            if "review" in meta or "pii_masked" in meta or "rejected" in meta:
                pending.append(RawRow(i, row, None, None, clean))
                continue
            read += 1
            if sure[e]:
                pairs.append((i, render_turns(rid, turns, meta, STEP)))
                kept += 1
                continue
            if pending:
                pairs.extend(general(pending))
                pending, merged = [], True
            conv = self.parse(row, self.opts)  # the record `io.parse_rows` makes of this row
            conv.origin = (self.label, i)
            if "source" not in conv.meta:
                conv.meta["source"] = self.name
            done = self.stage.settle(conv, *self.chain.check_rest(conv, sures, e), reject, counts)
            if done is not None:
                kept += 1
                pairs.extend((i, b) for b in render(done))
        if pending:
            pairs.extend(general(pending))
            merged = True
        if merged:
            pairs.sort(key=_first)  # line numbers are unique
        out.extend(map(_second, pairs))
        return read, kept


def _first(pair: tuple[int, bytes]) -> int:
    return pair[0]


def _second(pair: tuple[int, bytes]) -> bytes:
    return pair[1]
