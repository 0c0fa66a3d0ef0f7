"""`curate convert --fill` (identity.json placeholders) and `--dataset-info` (LLaMA-Factory)."""

from __future__ import annotations

import json

from curator.fill import fill_text, parse_fills
from tests.conftest import SAMPLE, run_cli


def test_fill_identity_json(real, tmp_path):
    out = tmp_path / "identity.json"
    r = run_cli("convert", str(real / "identity.json"), "-o", str(out), "--to", "alpaca",
                "--fill", "name=小智", "--fill", "author=星河团队")
    assert r.returncode == 0, r.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    raw = json.loads((real / "identity.json").read_text(encoding="utf-8"))
    assert len(rows) == len(raw)  # every row kept: nothing left unfilled
    text = out.read_text(encoding="utf-8")
    assert "{{" not in text and "小智" in text and "星河团队" in text
    m = json.loads((tmp_path / "identity.manifest.json").read_text(encoding="utf-8"))
    assert m["counts"]["rejected"] == 0 and m["fill"]["rows_filled"] == sum("{{" in json.dumps(x) for x in raw)


def test_placeholders_left_unfilled_are_still_rejected(real, tmp_path):
    out = tmp_path / "half.jsonl"
    r = run_cli("convert", str(real / "identity.json"), "-o", str(out), "--fill", "name=小智")
    assert r.returncode == 0
    rejects = [json.loads(x) for x in (tmp_path / "half.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rejects and {x["reason"] for x in rejects} == {"placeholder"}
    assert all("{{author}}" in x["message"] for x in rejects)
    m = json.loads((tmp_path / "half.manifest.json").read_text(encoding="utf-8"))
    assert m["counts"]["balanced"] and m["counts"]["in"] == m["counts"]["out"] + m["counts"]["rejected"]


def test_fill_leaves_code_fences_and_other_names_alone():
    text, n = fill_text("我是{{name}}。```\n{{ name }}\n``` {{other}}", {"name": "小智"})
    assert text == "我是小智。```\n{{ name }}\n``` {{other}}" and n == 1
    assert parse_fills(["author=a=b"]) == {"author": "a=b"}


def test_dataset_info_entries_match_the_written_files(real, tmp_path):
    cases = [("alpaca", str(SAMPLE / "alpaca.json"), "a.json"),
             ("sharegpt", str(real / "glaive_toolcall_zh_demo.json"), "s.json"),
             ("messages", str(SAMPLE / "messages.jsonl"), "m.jsonl")]
    for fmt, src, name in cases:
        r = run_cli("convert", src, "-o", str(tmp_path / name), "--to", fmt, "--dataset-info", f"ds_{fmt}")
        assert r.returncode == 0, r.stderr
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(info) == {"ds_alpaca", "ds_sharegpt", "ds_messages"}
    for key, e in info.items():
        path = tmp_path / e["file_name"]
        text = path.read_text(encoding="utf-8")
        rows = json.loads(text) if path.suffix == ".json" else [json.loads(x) for x in text.splitlines()]
        keys = {k for row in rows for k in row}
        assert set(e["columns"].values()) <= keys, (key, e["columns"], keys)  # every listed column exists
        if e.get("formatting") == "sharegpt":
            tags = e["tags"]
            msgs = [m for row in rows for m in row[e["columns"]["messages"]]]
            assert {m[tags["role_tag"]] for m in msgs} <= {v for k, v in tags.items() if k.endswith("_tag")
                                                           and k not in ("role_tag", "content_tag")}
            assert all(tags["content_tag"] in m for m in msgs)
    assert info["ds_alpaca"]["columns"]["prompt"] == "instruction"
    assert info["ds_sharegpt"]["columns"] == {"messages": "conversations", "tools": "tools"}


def test_dataset_info_never_overwrites_another_files_entry(tmp_path):
    (tmp_path / "dataset_info.json").write_text(json.dumps({"mine": {"file_name": "keep.json"}}), encoding="utf-8")
    r = run_cli("convert", str(SAMPLE / "alpaca.json"), "-o", str(tmp_path / "new.json"), "--to", "alpaca",
                "--dataset-info", "mine")
    assert r.returncode == 2 and "already has an entry 'mine'" in r.stderr
    assert not (tmp_path / "new.json").exists()
    assert json.loads((tmp_path / "dataset_info.json").read_text()) == {"mine": {"file_name": "keep.json"}}
    r = run_cli("convert", str(SAMPLE / "alpaca.json"), "-o", str(tmp_path / "new.json"), "--to", "alpaca",
                "--dataset-info", "other")
    assert r.returncode == 0
    assert set(json.loads((tmp_path / "dataset_info.json").read_text())) == {"mine", "other"}
