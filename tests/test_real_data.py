"""Every real third-party file in ../shared/data/real converts with in = out + rejects (skips when absent)."""

from __future__ import annotations

import orjson
import pytest

from curator.formats import DEFAULT_READ, DEFAULT_WRITE, get_format
from curator.io import read_records
from curator.rejects import RejectSink
from tests.conftest import REAL, run_cli

FILES = sorted(p.name for p in REAL.glob("*.json*")) if REAL.is_dir() else []


@pytest.mark.slow
def test_every_real_file_converts_balanced(tmp_path, real):
    names = sorted(p.name for p in real.glob("*.json*"))
    assert len(names) >= 10
    for name in names:
        out = tmp_path / f"{name.split('.')[0]}.jsonl"
        r = run_cli("convert", str(real / name), "-o", str(out))
        assert r.returncode == 0, (name, r.stderr)
        m = orjson.loads(out.with_name(out.stem + ".manifest.json").read_bytes())
        n_out = len(out.read_bytes().splitlines())
        n_rej = len(out.with_name(out.stem + ".rejects.jsonl").read_bytes().splitlines())
        assert m["counts"]["in"] == n_out + n_rej > 0 and m["counts"]["balanced"], name


def test_identity_placeholders_are_reported(tmp_path, real):
    r = run_cli("validate", str(real / "identity.json"), "--json")
    assert r.returncode == 1
    report = orjson.loads(r.stdout)
    assert report["rows"] == 91 and report["by_reason"] == {"placeholder": report["invalid"]}
    assert report["invalid"] >= 80
    msg = report["examples"]["placeholder"][0]["message"]
    assert "identity.json:1: messages[1].content has an unfilled placeholder {{name}}" in msg


@pytest.mark.parametrize("name", ["glaive_toolcall_en_demo.json", "glaive_toolcall_zh_demo.json", "dpo_en_demo.json",
                                  "fastchat_dummy_conversation.json"])
def test_real_sharegpt_round_trips_through_canonical(real, name):
    sg, ms = get_format("sharegpt"), get_format("messages")
    rows = orjson.loads((real / name).read_bytes())
    for row in rows:
        conv = ms.parse(orjson.loads(orjson.dumps(ms.render(sg.parse(row, DEFAULT_READ), DEFAULT_WRITE))), DEFAULT_READ)
        assert sg.render(conv, DEFAULT_WRITE) == row


@pytest.mark.parametrize("name", ["alpaca_en_demo.json", "alpaca_zh_demo.json", "gsm8k_train_alpaca.json",
                                  "gpteacher_roleplay.json"])
def test_real_alpaca_round_trips_through_canonical(real, name):
    al, ms = get_format("alpaca"), get_format("messages")
    for row in orjson.loads((real / name).read_bytes()):
        conv = ms.parse(orjson.loads(orjson.dumps(ms.render(al.parse(row, DEFAULT_READ), DEFAULT_WRITE))), DEFAULT_READ)
        assert al.render(conv, DEFAULT_WRITE) == row


def test_v1_content_parts_and_loss_weight(real):
    sink = RejectSink(None)
    recs = list(read_records(real / "v1_sft_demo.jsonl", rejects=sink))
    assert len(recs) + len(sink) == 500 and set(sink.counts) <= {"placeholder"}
    assert any(m.weight is not None for c in recs for m in c.messages)
    assert all(isinstance(m.content, str) for c in recs for m in c.messages)


def test_known_upstream_problems_are_named(real):
    sink = RejectSink(None)
    list(read_records(real / "glaive_toolcall_zh_demo.json", rejects=sink))
    assert sink.counts == {"tool_without_call": 2}  # an observation with no function_call before it
    sink = RejectSink(None)
    list(read_records(real / "dpo_en_demo.json", rejects=sink))
    assert sink.counts == {"bad_characters": 2}  # "â\x80\x94" mojibake for an em dash
    assert "U+0080 (mojibake" in sink.examples["bad_characters"][0]["message"]
