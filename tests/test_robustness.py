"""Malformed fields are rejected rows with a reason; broken files and paths are exit 2 in one line."""

from __future__ import annotations

import os
import sqlite3
import threading

import orjson
import pytest

from curator.io import read_records
from curator.rejects import RejectSink, read_rejects
from tests.conftest import run_cli

MSGS = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
BAD_FIELDS = [
    ({"meta": "not json"}, "meta is text that is not JSON"),
    ({"meta": 5}, "meta is a int"),
    ({"meta": {"lineage": "convert"}}, "meta.lineage is a str"),
    ({"meta": {"source": ["a", "b"]}}, "meta.source is a list"),
    ({"meta": {"scores": "high"}}, "meta.scores is a str"),
    ({"tools": "search"}, "tools is text that is not JSON"),
    ({"tools": {"type": "function"}}, "tools is a dict"),
    ({"messages": [MSGS[0], {**MSGS[1], "tool_calls": "call it"}]}, "tool_calls is text that is not JSON"),
]


def test_each_malformed_field_is_a_reject_with_its_reason(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"id": f"r{i}", "messages": MSGS, **extra} for i, (extra, _) in enumerate(BAD_FIELDS)]
    rows.append({"id": "good", "messages": MSGS})
    src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    res = run_cli("convert", str(src), "-o", str(tmp_path / "o.jsonl"))
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    rejects = read_rejects(tmp_path / "o.rejects.jsonl")
    assert len(rejects) == len(BAD_FIELDS) and len((tmp_path / "o.jsonl").read_bytes().splitlines()) == 1
    for rej, (_, why) in zip(rejects, BAD_FIELDS):
        assert rej["reason"] == "bad_structure" and why in rej["message"], rej["message"]


def test_parquet_meta_that_is_not_json_is_a_reject(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    msgs = [{"role": m["role"], "content": m["content"]} for m in MSGS]
    pq.write_table(pa.Table.from_pylist([{"id": "a", "messages": msgs, "meta": "{broken"},
                                         {"id": "b", "messages": msgs, "meta": '{"source": "x"}'}]),
                   tmp_path / "in.parquet")
    sink = RejectSink(None)
    assert [c.id for c in read_records(tmp_path / "in.parquet", rejects=sink)] == ["b"]
    assert sink.counts == {"bad_structure": 1}


def test_huge_integer_ids_round_trip_exactly(tmp_path):
    big = 123456789012345678901234567890
    for name, data in (("a.jsonl", orjson.dumps({"id": 1, "messages": MSGS}) + b"\n"
                        + f'{{"id": {big}, "messages": {orjson.dumps(MSGS).decode()}}}\n'.encode()),
                       ("b.json", f'[{{"id": {big}, "messages": {orjson.dumps(MSGS).decode()}}}]'.encode())):
        (tmp_path / name).write_bytes(data)
        ids = [c.id for c in read_records(tmp_path / name, rejects=RejectSink(None))]
        assert ids[-1] == str(big)


def test_a_fifo_input_is_read_once(tmp_path):
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    payload = b"".join(orjson.dumps({"id": f"r{i}", "messages": MSGS}) + b"\n" for i in range(30))

    def feed():
        with open(fifo, "wb") as fh:
            fh.write(payload)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    res = run_cli("convert", str(fifo), "-o", str(tmp_path / "o.jsonl"))
    assert res.returncode == 0, res.stderr
    assert len((tmp_path / "o.jsonl").read_bytes().splitlines()) == 30  # none lost to format detection
    t.join(5)


def test_broken_datasets_folder_is_exit_2(tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    (d / "state.json").write_text("{not json")
    res = run_cli("convert", str(d), "-o", str(tmp_path / "o.jsonl"))
    assert res.returncode == 2 and "state.json" in res.stderr and "Traceback" not in res.stderr
    (d / "state.json").write_text('{"_data_files": [{"filename": "data-00000.arrow"}]}')
    (d / "data-00000.arrow").write_text("this is not arrow")
    res = run_cli("convert", str(d), "-o", str(tmp_path / "o.jsonl"))
    assert res.returncode == 2 and "not an Arrow file" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_damaged_cache_says_how_to_go_on(tmp_path):
    from curator.cache import ResponseCache
    from curator.errors import UsageError

    bad = tmp_path / "c.sqlite"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(UsageError, match="--no-cache.*move it aside"):
        ResponseCache(bad)
    good = tmp_path / "g.sqlite"
    db = sqlite3.connect(good)
    db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, result BLOB NOT NULL, created REAL NOT NULL)")
    db.executemany("INSERT INTO responses VALUES (?,?,?)", [(f"k{i:08d}" * 4, b"x" * 300, 0.0) for i in range(3000)])
    db.commit()
    db.close()
    with open(good, "r+b") as fh:  # damage pages past the header, as a disk or a killed copy can
        for off in range(8192, good.stat().st_size, 8192):
            fh.seek(off)
            fh.write(os.urandom(600))
    with pytest.raises(UsageError, match="damaged"):
        rc = ResponseCache(good)
        for i in range(3000):
            rc.get(f"k{i:08d}" * 4)


def test_missing_local_model_fails_at_once(tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_bytes(orjson.dumps({"instruction": "hi", "output": ""}) + b"\n")
    res = run_cli("distill", str(src), "-o", str(tmp_path / "o.jsonl"), "--backend", "transformers",
                  "--model", str(tmp_path / "nonexistent"))
    assert res.returncode == 2 and "no such folder" in res.stderr and "Traceback" not in res.stderr


def test_review_decisions_follow_their_record_when_the_file_changes(tmp_path):
    from curator.review.session import ReviewSession

    f = tmp_path / "d.jsonl"
    rows = [orjson.dumps({"id": f"r{i}", "messages": [MSGS[0], {"role": "assistant", "content": f"a{i}"}]})
            for i in range(4)]
    f.write_bytes(b"\n".join(rows) + b"\n")
    s = ReviewSession(f)
    s.accept(1)
    s.edit(2, 0, 1, "edited answer")
    s.reject(3, "wrong")
    s.close()
    # a line inserted above, and record r3 removed
    new = orjson.dumps({"id": "new", "messages": MSGS})
    f.write_bytes(b"\n".join([new] + rows[:3]) + b"\n")
    s = ReviewSession(f)
    assert any("moved" in w for w in s.warnings) and any("no longer in the file" in w for w in s.warnings)
    assert s.state(2).status == "accepted" and s.item(2).id == "r1"
    assert s.state(1).status == "pending" and s.state(0).status == "pending"
    assert s.conversation(3).messages[1].content == "edited answer" and s.item(3).id == "r2"
    assert s.counts() == {"accepted": 1, "rejected": 0, "pending": 3}
    s.close()
    res = run_cli("review", "export", str(f), "--accepted", str(tmp_path / "acc.jsonl"))
    assert res.returncode == 0 and "warning:" in res.stderr
    assert [orjson.loads(x)["id"] for x in (tmp_path / "acc.jsonl").read_bytes().splitlines()] == ["r1"]
