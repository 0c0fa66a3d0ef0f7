"""The review model without a terminal: line index, row kinds, decision log, export."""

from __future__ import annotations

import os
from io import StringIO

import numpy as np
import orjson
import pytest
from rich.console import Console

from curator.io import read_records
from curator.manifest import read_manifest
from curator.rejects import manifest_path, read_rejects, rejects_path
from curator.review import render
from curator.review.items import interpret
from curator.review.session import ReviewSession
from curator.review.source import RowSource, index_path, scan_lines
from curator.review.store import DecisionStore, db_path
from tests.conftest import run_cli
from tests.review_helpers import INJECTION, conv, dataset, injection_file, write_jsonl


def test_line_index_skips_blank_lines_and_keeps_file_line_numbers(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" b'{"a":1}\n\n{"a":2}\r\n\r\n  \n{"a":3}')  # BOM, blank, CRLF, whitespace-only, no final newline
    starts, lines = scan_lines(p)
    assert lines.tolist() == [1, 3, 6]
    src = RowSource(p)
    assert [src.row(i)["a"] for i in range(len(src))] == [1, 2, 3]
    assert [src.line(i) for i in range(len(src))] == [1, 3, 6]


def test_line_index_cache_is_reused_and_invalidated(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 5)
    assert len(RowSource(p)) == 5
    cache = index_path(p)
    assert cache.exists()
    # a cache with the right key is trusted: prove it is read, not rebuilt, by its mtime staying put
    before = cache.stat().st_mtime_ns
    assert len(RowSource(p)) == 5 and cache.stat().st_mtime_ns == before
    with open(p, "ab") as fh:  # the file changed: size differs -> rebuilt
        fh.write(orjson.dumps(conv(9, "new", "row")) + b"\n")
    assert len(RowSource(p)) == 6


def test_row_kinds_real_rejects_group_bestofk_broken(tmp_path, sample):
    out = tmp_path / "conv.jsonl"
    r = run_cli("convert", str(sample / "bad" / "bad_rows.jsonl"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rej = rejects_path(out)
    s = ReviewSession(rej)
    items = [s.item(i) for i in range(len(s))]
    assert all(it.kind == "reject" for it in items)
    assert {it.reason for it in items} >= {"unknown_role", "invalid_json", "placeholder"}
    # a reject whose record parses (placeholder) shows as a conversation; one that cannot shows raw
    ph = next(it for it in items if it.reason == "placeholder")
    assert ph.members[0].conv is not None
    bad = next(it for it in items if it.reason == "bad_structure")
    assert bad.members[0].conv is None and bad.members[0].raw is not None
    s.close()

    group = interpret(0, 1, {"cluster_id": "c7", "members": [conv(1, "q", "a1", score=0.2), conv(2, "q", "a2"), "r9"]})
    assert group.kind == "group" and group.id == "c7" and len(group.members) == 3
    assert group.members[0].score == 0.2 and group.members[2].conv is None
    g2 = interpret(0, 1, {"group": "g1", "records": [{"id": "x", "record": conv(3, "q", "a")}]})
    assert g2.kind == "group" and g2.members[0].conv is not None

    bok = interpret(0, 1, {"id": "p1", "messages": [{"role": "user", "content": "2+2?"}],
                           "meta": {"candidates": [{"content": "4", "score": 0.9}, {"text": "5", "scores": {"judge": 0.1}}]}})
    assert bok.kind == "bestofk" and [m.score for m in bok.members[1:]] == [0.9, 0.1] and bok.score == 0.9
    assert bok.members[2].conv.messages[-1].content == "5"

    broken = interpret(0, 4, {"__error__": "invalid JSON", "__raw__": "{oops"})
    assert broken.kind == "broken" and broken.members[0].raw == "{oops"


def _plain(renderable) -> str:
    buf = StringIO()
    Console(file=buf, width=200, force_terminal=True, color_system="truecolor").print(renderable)
    return buf.getvalue()


def test_untrusted_text_renders_literally(tmp_path):
    s = ReviewSession(injection_file(tmp_path / "inj.jsonl"))
    for i in range(len(s)):
        item = s.item(i)
        out = _plain(render.detail(item, s.state(i), [s.conversation(i)], (0, 1), True, "inj.jsonl"))
        row = _plain(render.list_row(item, s.state(i), s.reason(i), 150))
        for text in (out, row):
            # the console's own styling uses CSI "m" sequences; none of the record's sequences survive
            stripped = text
            import re
            stripped = re.sub(r"\x1b\[[0-9;]*m", "", stripped)
            assert "\x1b" not in stripped and "\x07" not in stripped and "\x00" not in stripped
            assert "\u202e" not in stripped and "\x9b" not in stripped
    first = _plain(render.detail(s.item(0), s.state(0), [s.conversation(0)], (0, 1), True, "x"))
    assert "[bold red]not bold[/]" in first and "[link=http://evil]click[/link]" in first
    second = _plain(render.detail(s.item(1), s.state(1), [s.conversation(1)], (0, 1), True, "x"))
    assert "␛[31mred?␛[0m" in second and "␛]0;pwned-title␇" in second
    third = _plain(render.list_row(s.item(2), s.state(2), None, 200))
    assert "␇" in third and "␀" in third and "\\x9b" in third and "\\u202e" in third
    s.close()


def test_decisions_undo_bulk_and_reopen(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 6)
    s = ReviewSession(p)
    s.accept(0)
    s.reject(1, "wrong_answer")
    assert s.toggle_tag(1, "hallucination") is True
    s.edit(2, 0, 1, "better answer")
    s.accept(2)
    assert s.undo() == [2]  # takes back the accept, keeps the edit
    assert s.state(2).status == "pending" and s.state(2).edits == {(0, 1): "better answer"}
    s.set_filter("status=pending")
    assert s.view.tolist() == [2, 3, 4, 5]
    assert s.bulk(s.view, "accept") == 4
    assert s.counts() == {"accepted": 5, "rejected": 1, "pending": 0}
    assert s.undo() == [2, 3, 4, 5]  # the whole batch is one undo
    assert s.counts()["pending"] == 4
    s.close()

    s2 = ReviewSession(p)  # a restart sees the same state, history included
    assert s2.state(0).status == "accepted"
    assert s2.state(1).status == "rejected" and s2.state(1).reason == "wrong_answer"
    assert s2.state(1).tags == ["hallucination"]
    assert s2.conversation(2).messages[1].content == "better answer"
    assert s2.first_pending() == 2
    actions = [h[3] for h in s2.store.history()]
    assert actions.count("undo") == 5 and actions[:3] == ["accept", "reject", "tag"]
    s2.set_filter("tag=hallucination")
    assert s2.view.tolist() == [1]
    s2.set_filter("reason=wrong_answer")
    assert s2.view.tolist() == [1]
    s2.set_filter("all")
    assert s2.search("CATS", 0) == 1 and s2.search("cats", 1) == 3 and s2.search("cats", 1, forward=False) == 5
    with pytest.raises(Exception):
        s2.set_filter("colour=red")
    s2.close()
    with DecisionStore(db_path(p)).conn as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_export_applies_edits_and_decisions(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 5)
    with open(p, "ab") as fh:
        fh.write(b"{not json\n")
    s = ReviewSession(p)
    s.accept(0)
    s.edit(0, 0, 1, "edited answer")
    s.reject(1, "hallucination")
    s.toggle_tag(1, "wrong_answer")
    s.accept(5)  # the broken line: accepted, but it is no conversation -> export's rejects
    s.close()
    acc, bad = tmp_path / "acc.jsonl", tmp_path / "bad.jsonl"
    r = run_cli("review", "export", str(p), "--accepted", str(acc), "--badcases", str(bad))
    assert r.returncode == 0, r.stderr
    accepted = [orjson.loads(x) for x in acc.read_bytes().splitlines()]
    assert [a["id"] for a in accepted] == ["r0"]
    assert accepted[0]["messages"][1]["content"] == "edited answer"
    assert accepted[0]["meta"]["review"]["status"] == "accepted" and accepted[0]["meta"]["review"]["edited"]
    badcases = list(read_records(bad))  # goes straight back into distill / an eval set
    assert [b.id for b in badcases] == ["r1"]
    assert badcases[0].meta["review"]["reason"] == "hallucination"
    assert badcases[0].meta["review"]["tags"] == ["wrong_answer"]
    rej = read_rejects(rejects_path(acc))
    assert [x["reason"] for x in rej] == ["not_a_record"] and rej[0]["line"] == 6
    m = read_manifest(manifest_path(acc))
    c = m["counts"]
    assert (c["in"], c["out"], c["rejected"]) == (6, 1, 1)
    assert c["excluded_by_reason"] == {"pending": 3, "review_rejected": 1} and c["balanced"] is True
    assert m["review"]["badcases_file"] == str(bad) and m["review"]["badcases"] == 1


def test_export_usage_errors(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 2)
    r = run_cli("review", "export", str(p))
    assert r.returncode == 2 and "--accepted" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("review", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr
    r = run_cli("review", str(p), "--queue", "colour=red")
    assert r.returncode == 2 and "status=pending" in r.stderr


def test_group_export_counts_members(tmp_path):
    p = write_jsonl(tmp_path / "clusters.jsonl", [
        {"cluster_id": "c1", "members": [conv(1, "q", "a"), conv(2, "q", "a!")]},
        {"cluster_id": "c2", "members": [conv(3, "x", "y")]},
    ])
    s = ReviewSession(p)
    s.reject(0, "duplicate")
    s.close()
    acc, bad = tmp_path / "acc.jsonl", tmp_path / "bad.jsonl"
    r = run_cli("review", "export", str(p), "--accepted", str(acc), "--badcases", str(bad))
    assert r.returncode == 0, r.stderr
    bads = [orjson.loads(x) for x in bad.read_bytes().splitlines()]
    assert [b["id"] for b in bads] == ["r1", "r2"] and all(b["meta"]["review"]["group"] == "c1" for b in bads)
    c = read_manifest(manifest_path(acc))["counts"]
    assert c["in"] == 3 and c["balanced"]


@pytest.mark.slow
def test_large_file_opens_with_bounded_state(tmp_path):
    n = 200_000
    p = tmp_path / "big.jsonl"
    line = orjson.dumps(conv(0, "a fairly ordinary question", "a fairly ordinary answer"))
    with open(p, "wb") as fh:
        for i in range(n):
            fh.write(line.replace(b'"r0"', b'"r%d"' % i) + b"\n")
    s = ReviewSession(p)
    assert len(s) == n
    assert s.item(n - 1).id == f"r{n - 1}" and s.item(123_456).line == 123_457
    assert isinstance(s.source.starts, np.ndarray) and s.decoded_rows <= s.cache_size
    s.accept(n - 1)
    assert s.set_filter("status=pending") == n - 1
    s.close()
    assert os.path.getsize(index_path(p)) == 32 + 16 * n
