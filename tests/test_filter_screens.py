"""The filters' batch screens change no verdict: `FilterChain.check_many` (screens first, the plain
filter only where a screen proved nothing) gives exactly `check`'s result for every record — kept
record, dropping filter, reason code and message — on the real data sets and on hostile records,
for the default recipe and for recipes whose parameters switch screens off or change them.

The n-gram bound (`ngram_screen.ngram_bounds`) is also checked on its own: its token count is
the exact tokenizer's, and its share is never below the exact repeated-n-gram share."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.filters import DEFAULT_CHAIN, build_chain
from curator.filters.repeats import _TOKEN, ngram_repeat_ratio
from curator.filters.ngram_screen import ngram_bounds, tables
from curator.filters.screen import cover_needles
from curator.io import read_records
from curator.record import Conversation, Message
from curator.rejects import RejectSink
from tests.test_filter_fastpaths import ALPHABET, FRAGMENTS, _random_texts

REAL_FILES = ("alpaca_en_demo.json", "alpaca_zh_demo.json", "glaive_toolcall_en_demo.json",
              "glaive_toolcall_zh_demo.json", "identity.json", "fastchat_dummy_conversation.json",
              "v1_sft_demo.jsonl", "gpteacher_roleplay.json")

RECIPES = {
    "default": [(n, dict(p)) for n, p in DEFAULT_CHAIN],
    "tight": [("turns", {"min_turns": 1, "max_turns": 1}), ("empty_answer", {"allow_tool_calls": False}),
              ("reasoning", {"require": "any", "min_chars": 5}), ("length", {"min_chars": 3, "max_chars": 400,
                                                                            "min_conv_chars": 40,
                                                                            "max_conv_chars": 3000}),
              ("bad_text", {"roles": ["assistant"]}), ("placeholder", {"roles": ["assistant"]}),
              ("code_fence", {"roles": ["user", "assistant"]}),
              ("answer_match", {"missing": "keep"}),
              ("refusal", {"within_chars": 0, "extra_phrases": ["the cat"]}),
              ("repetition", {"ngram": 3, "max_ngram_ratio": 0.1, "min_tokens": 5, "max_dup_line_ratio": 0.1,
                              "min_lines": 2, "ignore_code": False})],
    "no_screens": [("reasoning", {"require": "present"}), ("answer_match", {"missing": "drop"}),
                   ("placeholder", {"patterns": [r"\[[A-Z ]+\]"]}), ("refusal", {"extra_phrases": ["a\nb"]}),
                   ("repetition", {"max_dup_line_ratio": -1.0, "min_line_chars": 0, "max_ngram_ratio": 0.0})],
    # refusal tags (edits the record): the filters after it run unscreened on the edited copy
    "edits": [("refusal", {"action": "tag"}), ("repetition", {"ngram": 2, "max_ngram_ratio": 0.2}),
              ("length", {"max_chars": 200})],
}


def _chains():
    return {name: build_chain([(n, dict(p)) for n, p in items], name) for name, items in RECIPES.items()}


def _same(chain, convs):
    got = chain.check_many(convs)
    assert len(got) == len(convs)
    for conv, (kept, rej) in zip(convs, got):
        want_kept, want_rej = chain.check(conv)
        assert (rej is None) == (want_rej is None), (conv.id, rej, want_rej)
        if rej is None:
            assert kept == want_kept, conv.id
        else:
            assert (rej.filter, rej.code, rej.message) == (want_rej.filter, want_rej.code, want_rej.message)


def _real_convs(real) -> list[Conversation]:
    out = []
    for name in REAL_FILES:
        p = real / name
        if p.exists():
            out += list(read_records(p, rejects=RejectSink(None), allow=("no_assistant",)))
    return out


def test_check_many_equals_check_on_real_data(real):
    convs = _real_convs(real)
    assert len(convs) > 1000
    for name, chain in _chains().items():
        for b in range(0, len(convs), 700):
            _same(chain, convs[b:b + 700])


def _hostile_convs(n: int, seed: int) -> list[Conversation]:
    rng = random.Random(seed)
    texts = _random_texts(4 * n, seed)
    loops = [" ".join(rng.choice(["alpha", "Beta", "我", "们", "ΣΑΣ", "İi", "x_1"]) for _ in range(rng.randint(3, 20)))
             * rng.randint(1, 8) for _ in range(n)]
    convs = []
    for i in range(n):
        msgs = []
        if rng.random() < 0.3:
            msgs.append(Message("system", rng.choice(texts)))
        for _ in range(rng.randint(0, 3)):
            msgs.append(Message("user", rng.choice(texts + ["", " "])))
            answer = rng.choice(texts + loops + ["", "  \n", "\n".join(["same line here"] * 6)])
            msgs.append(Message("assistant", answer, reasoning=rng.choice([None, "", "think " * 30, rng.choice(loops)]),
                                tool_calls=[{"id": "1"}] if rng.random() < 0.1 else None))
        meta = {"reference": rng.choice(["42", " ", {"content": "7"}, {"x": 1}])} if rng.random() < 0.3 else {}
        convs.append(Conversation(msgs, id=str(i), meta=meta))
    return convs


def test_check_many_equals_check_on_hostile_records():
    for name, chain in _chains().items():
        for seed in (1, 2):
            _same(chain, _hostile_convs(300, seed))


_PIECES = list(ALPHABET) + FRAGMENTS + ["\r\n", "\u2028", "\x85", "```", "~~~", "\ufffd", "\x07", "â€™", "😀"]
# joined pieces, repeated now and then so loops and repeated lines occur
_texts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join).map(lambda s: s * 4 if len(s) % 3 == 0 else s)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(st.sampled_from(["system", "user", "assistant", "tool", "function"]), _texts,
                                   st.one_of(st.none(), _texts)), max_size=5), min_size=1, max_size=12))
def test_check_many_equals_check_property(rows):
    convs = [Conversation([Message(r, c, reasoning=rs) for r, c, rs in row], id=str(i)) for i, row in enumerate(rows)]
    for chain in _CHAINS.values():
        _same(chain, convs)


_CHAINS = _chains()


@settings(max_examples=150, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=8), st.sampled_from([1, 2, 3, 10]))
def test_ngram_bound_is_never_below_the_exact_share(texts, n):
    counts, bound = ngram_bounds(texts, n)
    for text, c, b in zip(texts, counts, bound):
        exact, ntok = ngram_repeat_ratio(text, n)
        if c == -1:  # a text the table cannot lower on its own: left to the exact measure
            assert any(ch in "\u03a3\u0130\uffff" or ord(ch) > 0xFFFF for ch in text)
            continue
        assert c == ntok == len(_TOKEN.findall(text.lower()))
        if ntok >= n:
            assert b >= exact


def test_ngram_table_matches_lower_and_the_token_regex():
    table = tables()
    assert len(table) == 0x10000 and table[0xFFFF] >> 23 & 1  # stands for every astral code point
    for c in range(0xFFFF):
        if 0xD800 <= c < 0xE000 or c in (0x03A3, 0x0130):
            assert table[c] >> 23 & 1
            continue
        low = chr(c).lower()
        assert len(low) == 1 and table[c] & 0x1FFFFF == ord(low), hex(c)
        toks = _TOKEN.findall(low)
        want = 0 if not toks else (2 if "\u3400" <= low <= "\u4dbf" or "\u4e00" <= low <= "\u9fff"
                                   or "\uf900" <= low <= "\ufaff" else 1)
        assert table[c] >> 21 & 3 == want, hex(c)


@pytest.mark.parametrize("words", [("as an ai", "i can't", "我无法", "作为人工智能"), ("a", "ab", "b"), ("x\ny",)])
def test_cover_needles_cover_every_word(words):
    needles = cover_needles(words)
    assert all(any(nd in w for nd in needles) for w in words)


def test_batches_keep_bad_rows_and_drops_in_input_order(tmp_path, monkeypatch):
    """The filter reads a batch ahead, but the reader's rejects (bad rows) are held and replayed,
    so the rejects file lists bad rows and filter drops interleaved in input order, as the
    record-by-record stage wrote them — across several batches (FILTER_BATCH made small)."""
    import json

    from curator.engine import tasks
    from curator.rejects import rejects_path
    from tests.conftest import run_cli

    rows = []
    for i in range(300):
        if i % 7 == 3:
            rows.append('{"broken": ')
        answer = "I'm sorry, but I can't do that." if i % 5 == 0 else f"Answer number {i} is fine."
        rows.append(json.dumps({"messages": [{"role": "user", "content": f"question {i}"},
                                             {"role": "assistant", "content": answer}]}))
    rows.append('{"broken')
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(rows) + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    r = run_cli("filter", str(src), "-o", str(out), "--workers", "1", "--max-error-rate", "1")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x)["line"] for x in rejects_path(out).read_text("utf-8").splitlines()]
    assert len(lines) == 60 + 43 + 1 and lines == sorted(lines)

    # the same in process, with batches of 16 records, through the stage itself
    from collections import Counter

    from curator.rejects import RejectSink, read_rejects

    monkeypatch.setattr(tasks, "FILTER_BATCH", 16)
    sink = RejectSink(tmp_path / "r.jsonl")
    stage = tasks.Filter(json.dumps([[n, p] for n, p in DEFAULT_CHAIN]).encode())
    kept = list(stage(read_records(src, rejects=sink), sink.reject, Counter()))
    sink.close()
    in_order = [e["line"] for e in read_rejects(tmp_path / "r.jsonl")]
    assert len(kept) == 240 and in_order == lines
