"""The plain-row path (`curator.fastpath`) gives the bytes the general per-record path gives.

Each file is run through `tasks.run_range` twice — once as convert and validate run it (plain rows
take the plain path), once with the plain path switched off (every row parsed into a
`Conversation`, validated, staged, rendered) — and the output rows, reject lines and counters
must be equal. The inputs are the real data under ../shared/data/real and hostile rows: bad JSON,
wrong types, huge integers, CJK, surrogates, empty fields, a byte-order mark, CRLF, think tags,
placeholders, control characters. The command line is also compared with the plain API path
(`read_records` -> stage -> `RecordWriter`), which is the path a pipe or FIFO input takes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from curator.engine import tasks
from curator.engine.ranges import plan_ranges
from curator.engine.tasks import Identity, Lineage, ReadSpec, WriteSpec, plain_path, run_range
from curator.fastpath import PlainPath
from curator.formats import DEFAULT_READ, ReadOptions, WriteOptions
from curator.io import RecordWriter, read_records
from curator.rejects import RejectSink, manifest_path, rejects_path
from tests.conftest import run_cli

A = '{"instruction": %s, "input": %s, "output": %s}'
HOSTILE_ALPACA: list[bytes] = [
    b'\xef\xbb\xbf{"instruction": "BOM first line", "input": "", "output": "ok"}',
    b'{"instruction": "crlf", "input": "x", "output": "y"}\r',
    b'{"instruction": "plain", "input": "", "output": "answer"}',
    b'{"instruction": "no input key", "output": "answer"}',
    b'{"instruction": "null input", "input": null, "output": "answer"}',
    b'', b'   ', b'\t',
    b'{"instruction": "bad json", "output": "x"',
    b'not json at all',
    b'{"instruction": "lone surrogate \\ud800", "output": "x"}',
    b'{"instruction": "pair \\ud83d\\ude00 ok", "output": "emoji \\ud83d\\ude00"}',
    b'{"instruction": "invalid utf-8 \xff\xfe", "output": "x"}',
    b'{"instruction": "huge", "output": "x", "n": 123456789012345678901234567890}',
    b'{"id": 123456789012345678901234567890, "instruction": "huge id", "output": "x"}',
    b'{"id": -98765432109876543210, "instruction": "huge negative id", "output": "x"}',
    b'{"id": 1.5, "instruction": "float id", "output": "x"}',
    b'{"id": 7, "instruction": "int id", "output": "x"}',
    b'{"id": 0, "instruction": "zero id", "output": "x"}',
    b'{"id": "", "instruction": "empty id", "output": "x"}',
    b'{"id": "r-1", "instruction": "string id", "output": "x"}',
    b'{"id": true, "instruction": "bool id", "output": "x"}',
    b'{"id": {"a": 1}, "instruction": "dict id", "output": "x"}',
    b'{"id": null, "instruction": "null id", "output": "x"}',
    b'{"instruction": 5, "output": "x"}',
    b'{"instruction": "list output", "output": ["a", {"type": "text", "text": "b"}]}',
    b'{"instruction": "dict output", "output": {"a": 1}}',
    b'{"instruction": "num input", "input": 5, "output": "x"}',
    b'{"instruction": "list system", "system": ["s"], "output": "x"}',
    b'{"instruction": "with system", "system": "be brief", "output": "x"}',
    b'{"instruction": "blank system", "system": "  ", "output": "x"}',
    b'{"instruction": "empty system", "system": "", "output": "x"}',
    b'{"instruction": "false system", "system": false, "output": "x"}',
    b'{"instruction": "history", "history": [["q1", "a1"]], "output": "x"}',
    b'{"instruction": "bad history", "history": "nope", "output": "x"}',
    b'{"instruction": "empty history", "history": [], "output": "x"}',
    "{\"instruction\": \"你好，世界\", \"input\": \"中文输入\", \"output\": \"中文回答。\"}".encode(),
    "{\"instruction\": \"日本語\", \"output\": \"答え\\n\\t次の行\"}".encode(),
    b'{"instruction": "", "input": "", "output": "x"}',
    b'{"instruction": "", "input": "input only", "output": "x"}',
    b'{"instruction": "empty output", "input": "", "output": ""}',
    b'{"instruction": "blank output", "output": "  \\n "}',
    b'{"instruction": "   ", "output": "blank instruction"}',
    b'{"instruction": "no output"}',
    b'{"instruction": "null output", "output": null}',
    b'{"instruction": "ctrl \\u0001 char", "output": "x"}',
    b'{"instruction": "ctrl", "output": "del \x7f raw"}',
    b'{"instruction": "c1", "output": "mojibake \xc2\x85 here"}',
    b'{"instruction": "fffd", "output": "bad \xef\xbf\xbd char"}',
    b'{"instruction": "escaped fffd", "output": "bad \\ufffd char"}',
    b'{"instruction": "backspace \\b and formfeed \\f", "output": "x"}',
    b'{"instruction": "path C:\\\\users\\\\bob", "output": "x"}',
    b'{"instruction": "Hi {{name}}", "output": "x"}',
    b'{"instruction": "Hi", "output": "I am {{name}}"}',
    b'{"instruction": "Hi", "output": "I am \\u007b\\u007bname}}"}',
    b'{"instruction": "code", "output": "use {{ and }} in jinja: {{ x }}"}',
    b'{"instruction": "think", "output": "<think>\\nreason\\n</think>\\n\\nanswer"}',
    b'{"instruction": "think only", "output": "<think>reason</think>"}',
    b'{"instruction": "open think", "output": "<think>never closed"}',
    b'{"instruction": "close only", "output": "reason here</think>answer"}',
    b'{"instruction": "escaped slash", "output": "reason<\\/think>answer"}',
    b'{"instruction": "think mid", "output": "answer <think>x</think> more"}',
    b'{"instruction": "think placeholder", "output": "<think>{{slot}}</think>answer"}',
    b'{"instruction": "extra cols", "output": "x", "category": "qa", "score": 3}',
    b'{"instruction": "self-instruct", "instances": [{"input": "i", "output": "o"}]}',
    b'{"instruction": "instances and output", "output": "x", "instances": [{"input": "i", "output": "o"}]}',
    b'[{"instruction": "array on a line", "output": "x"}]',
    b'"just a string"', b'42', b'null', b'[]', b'{}',
    b'{"instruction": "nested", "output": "x", "meta": {"lineage": "no"}}',
    b'{"instruction": "slash \\/ escaped", "output": "ok \\/ fine"}',
    b'{"instruction": "quote \\" inside", "output": "tab\\tnewline\\n"}',
    b'  {"instruction": "leading spaces", "output": "x"}  ',
]

M = '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]%s}'
HOSTILE_MESSAGES: list[bytes] = [
    b'\xef\xbb\xbf' + (M % "").encode(),
    (M % "").encode() + b"\r",
    (M % ', "id": "m1"').encode(),
    (M % ', "id": 5').encode(),
    (M % ', "id": 123456789012345678901234567890').encode(),
    (M % ', "id": 2.5').encode(),
    (M % ', "meta": {"source": "s.jsonl", "lineage": ["convert"], "tags": ["a"], "scores": {"q": 4}}').encode(),
    (M % ', "meta": {"lineage": null}').encode(),
    (M % ', "meta": {"source": 5}').encode(),
    (M % ', "meta": {"tags": "x"}').encode(),
    (M % ', "meta": {"id_hashed": false, "x": 1}').encode(),
    (M % ', "meta": {"big": 123456789012345678901234567890}').encode(),
    (M % ', "meta": "{\\"source\\": \\"json text\\"}"').encode(),
    (M % ', "meta": null').encode(),
    (M % ', "meta": []').encode(),
    (M % ', "tools": [{"type": "function", "function": {"name": "f"}}]').encode(),
    (M % ', "tools": null').encode(),
    (M % ', "extra_col": 1').encode(),
    b'{"messages": []}',
    b'{"messages": "nope"}',
    b'{"messages": [{"role": "user", "content": "only a question"}]}',
    b'{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "late"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "User", "content": "q"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "asistant", "content": "q"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "reasoning_content": "r"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "reasoning_content": ""}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>r</think>a", "reasoning_content": null}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>r</think>a", "reasoning_content": "given"}]}',
    b'{"messages": [{"role": "user", "content": "q", "reasoning_content": "user side"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "reasoning": "alt key"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "reasoning_content": 5}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": "x"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "name": "bot"}]}',
    b'{"messages": [{"role": "user", "content": [{"type": "text", "text": "parts"}]}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": null}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"content": "no role"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": ["str", {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": "call"}, {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]}, {"role": "tool", "content": "r"}, {"role": "assistant", "content": "done"}]}',
    b'{"messages": [{"role": "user", "content": "\\u0007 bell"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": "{{name}}?"}, {"role": "assistant", "content": "a"}]}',
    "{\"messages\": [{\"role\": \"user\", \"content\": \"中文问题\"}, {\"role\": \"assistant\", \"content\": \"中文回答\"}]}".encode(),
    b'{"messages": [{"role": "user", "content": "q \\ud83d\\ude00"}, {"role": "assistant", "content": "a"}]}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "id": ""}',
    b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}',
    b'',
]


def _jsonl(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _real_jsonl(real: Path, tmp: Path, names: tuple[str, ...]) -> Path:
    rows = []
    for name in names:
        rows += orjson.loads((real / name).read_bytes())
    return _jsonl(tmp / "real.jsonl", [orjson.dumps(r) for r in rows])


def _run(path: Path, fmt: str, stage, write, opts: ReadOptions = DEFAULT_READ, range_bytes: int = 1 << 14):
    spec = ReadSpec(formats={str(path): fmt}, opts=opts)
    return [run_range("convert", spec, stage, write, r) for r in plan_ranges(path, range_bytes)]


def _plain_share(path: Path, fmt: str, opts: ReadOptions = DEFAULT_READ) -> float:
    """The share of rows the plain path takes (so a comparison is not vacuous)."""
    plain = PlainPath(fmt, name=path.name, opts=opts, step="convert", render=True)
    lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
    took = 0
    for ln in lines:
        try:
            took += plain(orjson.loads(ln), False) is not None
        except orjson.JSONDecodeError:
            pass
    return took / len(lines)


STAGES = [(Lineage("convert"), WriteSpec()), (Identity(), None), (Identity(), WriteSpec())]


def assert_same_both_ways(monkeypatch, path: Path, fmt: str, opts: ReadOptions = DEFAULT_READ) -> None:
    for stage, write in STAGES:
        fast = _run(path, fmt, stage, write, opts)
        with monkeypatch.context() as m:
            m.setattr(tasks, "plain_path", lambda *a, **k: None)
            general = _run(path, fmt, stage, write, opts)
        assert fast == general, (stage, write)


def test_real_alpaca_same_bytes(monkeypatch, tmp_path, real):
    path = _real_jsonl(real, tmp_path, ("alpaca_en_demo.json", "alpaca_zh_demo.json", "gsm8k_train_alpaca.json",
                                        "gpteacher_roleplay.json", "identity.json"))
    assert _plain_share(path, "alpaca") > 0.9
    assert_same_both_ways(monkeypatch, path, "alpaca")


def test_real_canonical_same_bytes(monkeypatch, tmp_path, real):
    """Canonical rows made from real data of every shape (tool calls, system prompts, several turns)."""
    canon = tmp_path / "canon.jsonl"
    sink = RejectSink(None)
    with RecordWriter(canon, "messages") as w:
        for name, fmt in (("alpaca_zh_demo.json", "alpaca"), ("glaive_toolcall_en_demo.json", "sharegpt"),
                          ("glaive_toolcall_zh_demo.json", "sharegpt"), ("fastchat_dummy_conversation.json", "sharegpt"),
                          ("v1_sft_demo.jsonl", None), ("identity.json", "alpaca")):
            for conv in read_records(real / name, fmt, rejects=sink):
                w.write(conv)
    share = _plain_share(canon, "messages")
    assert 0.3 < share < 1  # both paths are exercised, row by row
    assert_same_both_ways(monkeypatch, canon, "messages")


def test_hostile_rows_same_bytes(monkeypatch, tmp_path):
    alpaca = _jsonl(tmp_path / "a.jsonl", HOSTILE_ALPACA)
    messages = _jsonl(tmp_path / "m.jsonl", HOSTILE_MESSAGES)
    assert_same_both_ways(monkeypatch, alpaca, "alpaca")
    assert_same_both_ways(monkeypatch, messages, "messages")
    # other think tags, and no think splitting at all
    for opts in (ReadOptions(think_open="<reason>", think_close="</reason>"), ReadOptions(split_think=False),
                 ReadOptions(think_open="/", think_close="//")):
        assert_same_both_ways(monkeypatch, alpaca, "alpaca", opts)
        assert_same_both_ways(monkeypatch, messages, "messages", opts)


def test_plain_path_declines_what_it_does_not_own():
    """Stages that need records, column mappings, other encodings and other outputs never take it."""
    spec = ReadSpec(formats={})
    assert plain_path(Lineage("convert"), "alpaca", spec, WriteSpec(), "x") is not None
    assert plain_path(Lineage("convert"), "sharegpt", spec, WriteSpec(), "x") is None
    assert plain_path(Lineage("convert"), "alpaca", spec, WriteSpec("alpaca"), "x") is None
    assert plain_path(Lineage("convert"), "alpaca", spec, WriteSpec(opts=WriteOptions(strip_meta=True)), "x") is None
    assert plain_path(Lineage("convert"), "alpaca", spec, WriteSpec(opts=WriteOptions(reasoning="tags")), "x") is None
    assert plain_path(Lineage("convert"), "alpaca", ReadSpec({}, ReadOptions(mapping=(("output", "a"),))),
                      WriteSpec(), "x") is None
    assert plain_path(Lineage("convert"), "alpaca", ReadSpec({}, encoding="gb18030"), WriteSpec(), "x") is None
    assert plain_path(tasks.Score(("x",)), "messages", spec, None, "x") is None


def _api_convert(src: Path, out: Path, fmt: str | None) -> None:
    """convert through the per-record API path: what a FIFO input takes."""
    rejects = RejectSink(rejects_path(out), stage="convert")
    with RecordWriter(out, "messages", rejects=rejects) as w:
        for conv in Lineage("convert")(read_records(src, fmt, rejects=rejects), rejects.reject, Counter()):
            w.write(conv)
    rejects.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_convert_matches_per_record_path(tmp_path, real, workers):
    src = tmp_path / "mixed.jsonl"
    real_rows = [orjson.dumps(r) for r in orjson.loads((real / "alpaca_zh_demo.json").read_bytes())]
    _jsonl(src, real_rows[:300] + HOSTILE_ALPACA[1:] + real_rows[300:600])
    ref = tmp_path / "ref" / "out.jsonl"
    ref.parent.mkdir()
    _api_convert(src, ref, "alpaca")
    out = tmp_path / "cli" / "out.jsonl"
    r = run_cli("convert", str(src), "-o", str(out), "--from", "alpaca", "--workers", workers)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes()
    assert rejects_path(out).read_bytes() == rejects_path(ref).read_bytes()
    counts = orjson.loads(manifest_path(out).read_bytes())["counts"]
    assert counts["balanced"] and counts["rejected"] > 20


def test_cli_json_array_takes_plain_path_too(tmp_path, real):
    """A .json array is one range read whole; its rows reach the plain path without a raw line."""
    src = real / "alpaca_en_demo.json"
    ref = tmp_path / "ref" / "out.jsonl"
    ref.parent.mkdir()
    _api_convert(src, ref, None)
    out = tmp_path / "cli" / "out.jsonl"
    r = run_cli("convert", str(src), "-o", str(out), "--workers", "2")  # (one process streams it)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes()
