"""`curate convert / validate / stats` through the real entry point. Every run: in = out + rejects."""

from __future__ import annotations

import gzip

import orjson
import pytest

from tests.conftest import run_cli


def _lines(path) -> list[dict]:
    data = path.read_bytes()
    if str(path).endswith(".gz"):
        data = gzip.decompress(data)
    return [orjson.loads(x) for x in data.splitlines() if x.strip()]


def _balanced(out) -> dict:
    """Assert in = out + rejects from the files themselves, and return the manifest."""
    stem = out.name.split(".")[0]
    m = orjson.loads((out.parent / f"{stem}.manifest.json").read_bytes())
    rejects = _lines(out.parent / f"{stem}.rejects.jsonl")
    n_out = len(_lines(out)) if out.suffix != ".json" else len(orjson.loads(out.read_bytes()))
    assert m["counts"]["in"] == n_out + len(rejects), m["counts"]
    assert m["counts"]["out"] == n_out and m["counts"]["balanced"] is True
    return m


def test_shards_merge_in_order_and_formats_are_reported(tmp_path, sample):
    out = tmp_path / "all.jsonl"
    r = run_cli("convert", str(sample / "sharegpt.json"), str(sample / "alpaca.json"), str(sample / "fastchat.json"),
                "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "sharegpt.json: detected format sharegpt" in r.stderr and "alpaca.json: detected format alpaca" in r.stderr
    m = _balanced(out)
    rows = _lines(out)
    assert len(rows) == 16 and rows[-1]["id"] == "fc_1"  # input ids are kept
    assert [r["meta"]["source"] for r in rows] == ["sharegpt.json"] * 4 + ["alpaca.json"] * 10 + ["fastchat.json"] * 2
    assert all(r["meta"]["lineage"] == ["convert"] for r in rows)
    assert m["command"] == "convert" and m["params"]["to"] == "messages"


def test_to_alpaca_rejects_tool_calls_with_a_reason(tmp_path, sample):
    out = tmp_path / "a.json"
    r = run_cli("convert", str(sample / "messages.jsonl"), "--to", "alpaca", "-o", str(out))
    assert r.returncode == 0, r.stderr
    m = _balanced(out)
    assert m["counts"]["rejected_by_reason"] == {"unrepresentable": 2}
    rej = _lines(tmp_path / "a.rejects.jsonl")
    assert rej[0]["line"] == 3 and "Alpaca cannot hold tool calls" in rej[0]["message"]
    assert "unrepresentable: 2" in r.stderr


def test_alpaca_round_trip_through_the_cli_is_exact(tmp_path, sample):
    mid, back = tmp_path / "m.jsonl.gz", tmp_path / "back.json"
    assert run_cli("convert", str(sample / "alpaca.json"), "-o", str(mid)).returncode == 0
    assert run_cli("convert", str(mid), "--to", "alpaca", "-o", str(back)).returncode == 0
    _balanced(back)
    assert orjson.loads(back.read_bytes()) == orjson.loads((sample / "alpaca.json").read_bytes())


@pytest.mark.parametrize("mode,expect", [
    ("field", {"role": "assistant", "content": "12", "reasoning_content": "10% of 80 is 8 and 5% is 4, so 15% is 12."}),
    ("tags", {"role": "assistant", "content": "<think>\n10% of 80 is 8 and 5% is 4, so 15% is 12.\n</think>\n\n12"}),
    ("drop", {"role": "assistant", "content": "12"}),
])
def test_reasoning_option(tmp_path, sample, mode, expect):
    out = tmp_path / "r.jsonl"
    r = run_cli("convert", str(sample / "reasoning_ark.jsonl"), "--reasoning", mode, "--strip-meta", "-o", str(out))
    assert r.returncode == 0, r.stderr
    _balanced(out)
    row = _lines(out)[0]
    assert set(row) == {"messages"} and row["messages"][1] == expect


def test_map_renames_columns_and_tags(tmp_path):
    src = tmp_path / "custom.jsonl"
    src.write_text('{"question": "Why?", "answer": "Because."}\n'
                   '{"question": "你好", "answer": "你好！"}\n', encoding="utf-8")
    out = tmp_path / "o.jsonl"
    r = run_cli("convert", str(src), "--map", "instruction=question", "--map", "output=answer", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert [row["messages"][1]["content"] for row in _lines(out)] == ["Because.", "你好！"]
    _balanced(out)
    src2 = tmp_path / "tags.jsonl"
    src2.write_text('{"conversations": [{"from": "customer", "value": "hi"}, {"from": "agent", "value": "hello"}]}\n')
    r = run_cli("convert", str(src2), "--map", "tag.user=customer", "--map", "tag.assistant=agent", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert [m["role"] for m in _lines(out)[0]["messages"]] == ["user", "assistant"]


def test_max_error_rate_exit_code_and_outputs_still_written(tmp_path, sample):
    out = tmp_path / "o.jsonl"
    args = ("convert", str(sample / "messages.jsonl"), str(sample / "bad" / "bad_rows.jsonl"), "-o", str(out))
    r = run_cli(*args, "--max-error-rate", "0.5")
    assert r.returncode == 1 and "error rate 72.2% is above --max-error-rate 50.0%" in r.stderr
    _balanced(out)
    assert run_cli(*args, "--max-error-rate", "0.8").returncode == 0


@pytest.mark.parametrize("args,message", [
    (("convert", "missing.jsonl", "-o", "{tmp}/o.jsonl"), "missing.jsonl: no such file"),
    (("convert", "{sample}/alpaca.json", "--from", "yaml", "-o", "{tmp}/o.jsonl"), "unknown format 'yaml'"),
    (("convert", "{sample}/alpaca.json", "--map", "instruction", "-o", "{tmp}/o.jsonl"), "expected OURS=THEIRS"),
    (("convert", "{sample}/alpaca.json", "--reasoning", "hide", "-o", "{tmp}/o.jsonl"), "choose auto, field, tags or drop"),
    (("convert", "{sample}/alpaca.json", "-o", "{tmp}/o.csv"), "unknown output type"),
    (("convert", "{sample}/bad/broken_array.json", "-o", "{tmp}/o.jsonl"), "line 3, column 23"),
    (("convert", "{tmp}/q.jsonl", "-o", "{tmp}/o.jsonl"), "cannot tell the format"),
    (("validate", "{sample}/bad/gb18030.jsonl", "--encoding", "nope"), "--encoding nope: unknown encoding"),
])
def test_usage_errors_exit_2_without_traceback_or_output(tmp_path, sample, args, message):
    (tmp_path / "q.jsonl").write_text('{"question": "q"}\n')
    r = run_cli(*(a.format(tmp=tmp_path, sample=sample) for a in args))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr + r.stdout and "Traceback" not in r.stderr
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.rejects.jsonl").exists()


def test_gb18030_without_encoding_suggests_it(tmp_path, sample):
    out = tmp_path / "o.jsonl"
    r = run_cli("convert", str(sample / "bad" / "gb18030.jsonl"), "-o", str(out))
    assert r.returncode == 0 and "pass --encoding gb18030" in r.stderr
    assert _balanced(out)["counts"]["rejected_by_reason"] == {"encoding": 2}
    r = run_cli("convert", str(sample / "bad" / "gb18030.jsonl"), "--encoding", "gb18030", "-o", str(out))
    assert r.returncode == 0 and len(_lines(out)) == 2


def test_output_is_byte_identical_run_to_run(tmp_path, sample):
    inputs = [str(sample / f) for f in ("alpaca.json", "sharegpt.json", "messages.jsonl", "bad/bad_rows.jsonl")]
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        assert run_cli("convert", *inputs, "-o", str(tmp_path / name)).returncode == 0
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    assert (tmp_path / "a.rejects.jsonl").read_bytes() == (tmp_path / "b.rejects.jsonl").read_bytes()


def test_validate_table_and_json(tmp_path, sample):
    bad = sample / "bad" / "bad_sharegpt.jsonl"
    r = run_cli("validate", str(bad))
    assert r.returncode == 1 and "did you mean 'human'?" in r.stdout and "3 rows: 0 valid, 3 invalid" in r.stdout
    r = run_cli("validate", str(sample / "bad" / "bad_rows.jsonl"), "--json", "--examples", "1")
    report = orjson.loads(r.stdout)
    assert report["rows"] == 13 and report["invalid"] == 13 and report["by_reason"]["turn_order"] == 2
    assert len(report["examples"]["turn_order"]) == 1
    out = tmp_path / "valid.jsonl"
    r = run_cli("validate", str(sample / "messages.jsonl"), str(bad), "--max-error-rate", "0.5", "-o", str(out))
    assert r.returncode == 0, r.stderr
    _balanced(out)


def test_stats_json(sample):
    r = run_cli("stats", str(sample / "messages.jsonl"), str(sample / "prompts.jsonl"), "--json")
    assert r.returncode == 0, r.stderr
    d = orjson.loads(r.stdout)
    assert d["records"] == 9 and d["with_tools"] == 1 and d["with_system"] == 1 and d["multi_turn"] == 1
    assert d["roles"] == {"system": 1, "user": 10, "assistant": 7, "tool": 1}
    assert d["formats"] == {str(sample / "messages.jsonl"): "messages", str(sample / "prompts.jsonl"): "alpaca"}
    r = run_cli("stats", str(sample / "sharegpt.json"))
    assert r.returncode == 0 and "chars total" in r.stdout
