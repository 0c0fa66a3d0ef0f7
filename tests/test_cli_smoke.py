"""The real entry point: convert and validate on the shipped sample data."""

from __future__ import annotations

import orjson

from tests.conftest import run_cli


def test_convert_writes_output_rejects_and_manifest(tmp_path, sample):
    out = tmp_path / "all.jsonl"
    r = run_cli("convert", str(sample / "alpaca.json"), str(sample / "bad" / "bad_rows.jsonl"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    rejects = [orjson.loads(line) for line in (tmp_path / "all.rejects.jsonl").read_bytes().splitlines()]
    manifest = orjson.loads((tmp_path / "all.manifest.json").read_bytes())
    assert len(rows) == 10
    assert manifest["counts"]["in"] == len(rows) + len(rejects) == 23
    assert manifest["counts"]["balanced"] is True
    assert {r["reason"] for r in rejects} >= {"unknown_role", "invalid_json", "placeholder", "turn_order"}


def test_validate_exit_codes(sample):
    assert run_cli("validate", str(sample / "messages.jsonl")).returncode == 0
    bad = run_cli("validate", str(sample / "bad" / "bad_rows.jsonl"))
    assert bad.returncode == 1
    assert "did you mean 'assistant'?" in bad.stdout
    broken = run_cli("validate", str(sample / "bad" / "broken_array.json"))
    assert broken.returncode == 2
    assert "line 3, column 23" in broken.stderr
    assert "Traceback" not in broken.stderr
