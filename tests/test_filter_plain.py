"""Filter's plain-row route (`curator.engine.filter_plain`) gives the bytes the general path gives.

Each file is filtered through `tasks.run_range` twice — once as `curate filter` runs it (plain
rows are screened from their turns and rendered from the orjson row), once with the route switched
off (every row parsed into a `Conversation`, validated, filtered by `Filter`, rendered) — and the
output rows, reject lines and counters must be equal, for the default recipe and for recipes that
drop much more, switch screens off, or edit records. Inputs: a canonical file made from the real
data under ../shared/data/real, the same as Alpaca, and hostile rows (bad JSON, a byte-order mark,
odd roles, reasoning_content, think tags, huge ids, non-string content, reviewed / masked /
rejected meta, and rows every filter of the default recipe drops). The command line is compared
too: --workers 1 and 2 against the general path.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from curator.engine import filter_plain, tasks
from curator.engine.ranges import plan_ranges
from curator.engine.tasks import Filter, ReadSpec, WriteSpec, run_range
from curator.filters import DEFAULT_CHAIN
from curator.formats import DEFAULT_READ, ReadOptions
from curator.io import RecordWriter, read_records
from curator.rejects import RejectSink, manifest_path, rejects_path
from tests.conftest import run_cli
from tests.test_fastpath import HOSTILE_ALPACA, HOSTILE_MESSAGES, _jsonl

DEFAULT = [[n, dict(p)] for n, p in DEFAULT_CHAIN]
RECIPES = {
    "default": DEFAULT,
    # drops far more, every screen still on: many rows leave the route mid-batch
    "strict": DEFAULT[:3] + [["length", {"max_chars": 600, "min_conv_chars": 30}],
                             ["refusal", {"extra_phrases": ["the", "的"]}],
                             ["repetition", {"ngram": 2, "max_ngram_ratio": 0.15, "min_tokens": 8,
                                             "max_dup_line_ratio": 0.05, "min_lines": 2}]],
    # a screen that proves nothing for its parameters: the route is not taken at all
    "unscreened": DEFAULT + [["reasoning", {"require": "present"}]],
    # a filter that edits (tags refusals): the same
    "edits": [["refusal", {"action": "tag"}], ["length", {"max_chars": 300}]],
    "answers": [["answer_match", {"reference": "meta.extra.answer", "missing": "keep"}],
                ["answer_match", {"reference": "meta.source", "missing": "keep"}]],
}

R = '{"messages": [{"role": "user", "content": %s}, {"role": "assistant", "content": %s}]%s}'


def _row(q: str, a: str, extra: str = "") -> bytes:
    return (R % (json.dumps(q, ensure_ascii=False), json.dumps(a, ensure_ascii=False), extra)).encode()


LOOP = "The same sentence again and again, over and over. " * 20
HOSTILE_FILTER: list[bytes] = [
    _row("Say hi", "Hello there!"),
    _row("Write a letter", "Dear [Your Name], thanks."),                                      # placeholder
    _row("Write a letter", "Dear {{name}}, thanks."),                                         # slot: reader's
    _row("Help", "I'm sorry, but I can't help with that."),                                   # refusal
    _row("作为", "抱歉，我无法回答这个问题。"),                                                  # refusal (zh)
    _row("Loop", LOOP),                                                                       # repeated n-grams
    _row("Lines", "\n".join(["a line that repeats itself"] * 8)),                             # repeated lines
    _row("Letter", "Regards, [YOUR NAME] of <insert company>"),                               # placeholders
    _row("Letter", "Signed: [your name]. See `[INSERT X]` in code."),                         # a case the rules leave
    _row("模板", "您好【姓名】，请在[此处填写日期]前回复。"),
    _row("Lorem", "LOREM IPSUM dolor sit amet."),
    _row("Links", "See [the docs](https://example.com) and <b>bold</b> and a[i] < b[j]."),     # brackets, no slot
    _row("Help", "I\u2019M SORRY, BUT I CAN\u2019T HELP WITH THAT."),                            # curly apostrophe, caps
    _row("Help", "I can't book flights, but I can check the weather for you."),               # a decline that helps
    _row("Help", "x" * 290 + " I'm sorry, but I can't help with that."),                      # past the first 300
    _row("Tilde", "~~~\ncode\n"),                                                               # open ~~~ fence
    _row("Code", "```python\nprint(1)\n"),                                                    # open fence
    _row("Code", "```python\n" + "x = 1\n" * 30 + "```\nDone."),                              # fenced repeats: fine
    _row("Broken", "caf\u00c3\u00a9 au lait"),                                               # mojibake
    _row("Think", "<think>reasoning here</think>The answer."),
    _row("Think", "<think>only reasoning</think>"),                                           # empty final answer
    _row("Think", "<think>" + LOOP + "</think>Fine answer."),                                  # looping reasoning
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", '
    b'"reasoning_content": "' + LOOP.encode() + b'"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", '
    b'"reasoning_content": "r"}]}',
    _row("Math", "6 * 7 = 42", ', "meta": {"reference": "42"}'),
    _row("Math", "6 * 7 = 41", ', "meta": {"reference": "42"}'),                               # answer mismatch
    _row("Math", "6 * 7 = 42", ', "meta": {"extra": {"answer": "43"}}'),
    _row("Reviewed", "I'm sorry, but I can't help with that.",
         ', "meta": {"review": {"status": "accepted"}}'),                                     # kept unfiltered
    _row("Reviewed", "Fine.", ', "meta": {"review": {"status": "rejected"}}'),
    _row("Masked", "Call me at [PHONE].", ', "meta": {"pii_masked": ["phone"]}'),
    _row("Old reject", "A good answer now.", ', "meta": {"rejected": {"reason": "refusal"}, "lineage": ["convert"]}'),
    _row("Id", "An answer.", ', "id": 123456789012345678901234567890'),
    _row("Id", "An answer.", ', "id": 7'),
    _row("Lineage", "An answer.", ', "meta": {"lineage": ["convert", "dedup"], "source": "x.jsonl"}'),
    _row("", "An answer to nothing."),
    _row("Tab\tand\nnewline", "Line one\r\nLine two\u2028three"),
    _row("Emoji 😀", "Answer with emoji 😀 and \u03a3 sigma ΣΑΣ"),
    b'{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q"}, '
    b'{"role": "assistant", "content": "a"}, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": 5}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "Assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ["a"]}]}',
]


def _runs(path: Path, fmt: str, items, opts: ReadOptions = DEFAULT_READ, range_bytes: int = 1 << 13):
    spec = ReadSpec(formats={str(path): fmt}, opts=opts)
    stage = Filter(orjson.dumps(items), "recipe")
    return [run_range("filter", spec, stage, WriteSpec(), r) for r in plan_ranges(path, range_bytes)]


def _plain_rows(monkeypatch, path: Path, fmt: str, items, opts: ReadOptions = DEFAULT_READ) -> int:
    """Rows the route filtered itself (so a comparison is not vacuous)."""
    took = []
    lines = filter_plain.FilterRoute.lines

    def counting(self, *a, **k):
        res = lines(self, *a, **k)
        took.append(res[0])
        return res

    monkeypatch.setattr(filter_plain.FilterRoute, "lines", counting)
    _runs(path, fmt, items, opts)
    monkeypatch.setattr(filter_plain.FilterRoute, "lines", lines)
    return sum(took)


def assert_same_both_ways(monkeypatch, path: Path, fmt: str, opts: ReadOptions = DEFAULT_READ) -> dict[str, int]:
    """Same results with and without the route, for every recipe; returns the rows it filtered."""
    taken = {}
    for name, items in RECIPES.items():
        for batch in (filter_plain.BATCH, 5):
            monkeypatch.setattr(filter_plain, "BATCH", batch)
            monkeypatch.setattr(tasks, "FILTER_BATCH", batch)
            fast = _runs(path, fmt, items, opts)
            with monkeypatch.context() as m:
                m.setattr(tasks, "filter_route", lambda *a, **k: None)
                general = _runs(path, fmt, items, opts)
            assert fast == general, (name, batch)
        taken[name] = _plain_rows(monkeypatch, path, fmt, items, opts)
    assert taken["unscreened"] == taken["edits"] == 0
    return taken


def _real_canonical(real: Path, tmp: Path) -> Path:
    canon = tmp / "canon.jsonl"
    sink = RejectSink(None)
    with RecordWriter(canon, "messages") as w:
        for name, fmt in (("alpaca_en_demo.json", "alpaca"), ("alpaca_zh_demo.json", "alpaca"),
                          ("gsm8k_train_alpaca.json", "alpaca"), ("gpteacher_roleplay.json", "alpaca"),
                          ("glaive_toolcall_en_demo.json", "sharegpt"), ("fastchat_dummy_conversation.json", "sharegpt"),
                          ("v1_sft_demo.jsonl", None), ("identity.json", "alpaca")):
            for k, conv in enumerate(read_records(real / name, fmt, rejects=sink)):
                if k < 400:
                    w.write(conv)
    return canon


def test_real_canonical_same_bytes(monkeypatch, tmp_path, real):
    canon = _real_canonical(real, tmp_path)
    n = sum(1 for _ in canon.open("rb"))
    taken = assert_same_both_ways(monkeypatch, canon, "messages")
    assert taken["default"] > 0.7 * n and taken["strict"] > 0.5 * n


def test_real_alpaca_same_bytes(monkeypatch, tmp_path, real):
    rows = []
    for name in ("alpaca_zh_demo.json", "gsm8k_train_alpaca.json", "identity.json"):
        rows += [orjson.dumps(r) for r in orjson.loads((real / name).read_bytes())[:300]]
    path = _jsonl(tmp_path / "a.jsonl", rows)
    assert assert_same_both_ways(monkeypatch, path, "alpaca")["default"] > 0.7 * len(rows)


def test_hostile_rows_same_bytes(monkeypatch, tmp_path):
    messages = _jsonl(tmp_path / "m.jsonl", HOSTILE_FILTER + HOSTILE_MESSAGES + HOSTILE_FILTER)
    alpaca = _jsonl(tmp_path / "a.jsonl", HOSTILE_ALPACA)
    assert assert_same_both_ways(monkeypatch, messages, "messages")["default"] > 20
    assert_same_both_ways(monkeypatch, alpaca, "alpaca")
    for opts in (ReadOptions(split_think=False), ReadOptions(think_open="<reason>", think_close="</reason>")):
        assert_same_both_ways(monkeypatch, messages, "messages", opts)


def test_route_only_where_it_holds():
    """Only the filter stage, on canonical output with the reasoning in its field, and a chain
    whose screens can prove records."""
    from curator.engine.ranges import Range
    from curator.formats import WriteOptions

    spec = ReadSpec(formats={})
    r = Range(path="x.jsonl", kind="jsonl", start=0, end=1, first=1)
    stage = Filter(orjson.dumps(DEFAULT))
    assert tasks.filter_route(stage, "messages", spec, WriteSpec(), r) is not None
    assert tasks.filter_route(stage, "sharegpt", spec, WriteSpec(), r) is None
    assert tasks.filter_route(stage, "messages", spec, WriteSpec("alpaca"), r) is None
    assert tasks.filter_route(stage, "messages", spec, WriteSpec(opts=WriteOptions(reasoning="tags")), r) is None
    assert tasks.filter_route(stage, "messages", ReadSpec({}, encoding="gb18030"), WriteSpec(), r) is None
    assert tasks.filter_route(Filter(orjson.dumps(RECIPES["edits"])), "messages", spec, WriteSpec(), r) is None
    assert tasks.filter_route(tasks.Lineage("convert"), "messages", spec, WriteSpec(), r) is None
    assert tasks.plain_path(stage, "messages", spec, WriteSpec(), "x") is None


def _api_filter(src: Path, out: Path) -> None:
    """filter through the per-record API path (what a FIFO input takes): no route, no ranges."""
    from collections import Counter

    rejects = RejectSink(rejects_path(out), stage="filter")
    stage = Filter(orjson.dumps(DEFAULT))
    with RecordWriter(out, "messages", rejects=rejects) as w:
        for conv in stage(read_records(src, "messages", rejects=rejects), rejects.reject, Counter()):
            w.write(conv)
    rejects.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_filter_matches_per_record_path(tmp_path, real, workers):
    canon = _real_canonical(real, tmp_path)
    src = tmp_path / "mixed.jsonl"
    lines = canon.read_bytes().splitlines()
    _jsonl(src, lines[:700] + HOSTILE_FILTER + HOSTILE_MESSAGES[1:] + lines[700:])
    ref = tmp_path / "ref" / "out.jsonl"
    ref.parent.mkdir()
    _api_filter(src, ref)
    out = tmp_path / "cli" / "out.jsonl"
    r = run_cli("filter", str(src), "-o", str(out), "--from", "messages", "--workers", workers,
                "--max-error-rate", "1")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes()
    assert rejects_path(out).read_bytes() == rejects_path(ref).read_bytes()
    manifest = orjson.loads(manifest_path(out).read_bytes())
    assert manifest["counts"]["balanced"] and manifest["counts"]["rejected"] > 30
