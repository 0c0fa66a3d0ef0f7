"""`curate run`: stages in order, skip when unchanged, --from/--until, recipe validation errors."""

from __future__ import annotations

import pytest

import orjson

from tests.conftest import SAMPLE, run_cli


def _recipe(tmp_path, body: str):
    p = tmp_path / "recipe.yaml"
    p.write_text(body, encoding="utf-8")
    return p


@pytest.mark.slow
def test_run_convert_validate_convert_and_skip_unchanged(tmp_path):
    r = _recipe(tmp_path, f"""
name: t
stages:
  - convert: {{inputs: ["{SAMPLE}/alpaca.json", "{SAMPLE}/bad/bad_rows.jsonl"]}}
  - validate: {{}}
  - convert: {{name: as-sharegpt, to: sharegpt}}
""")
    first = run_cli("run", str(r))
    assert first.returncode == 0, first.stderr
    wd = tmp_path / "runs" / "t"
    m1 = orjson.loads((wd / "01-convert.manifest.json").read_bytes())["counts"]
    assert m1["in"] == m1["out"] + m1["rejected"] and m1["out"] == 10 and m1["rejected"] == 13
    rows = [orjson.loads(x) for x in (wd / "as-sharegpt.jsonl").read_bytes().splitlines()]
    assert len(rows) == 10 and all("conversations" in row for row in rows)
    second = run_cli("run", str(r))
    assert second.returncode == 0
    assert second.stderr.count("unchanged, skipped") == 3
    # --from re-runs from a stage on, reusing earlier outputs
    third = run_cli("run", str(r), "--from", "as-sharegpt", "--force")
    assert "[as-sharegpt]" in third.stderr and "[01-convert]" not in third.stderr


@pytest.mark.slow
def test_changed_parameter_reruns_stage(tmp_path):
    r = _recipe(tmp_path, f"stages:\n  - convert: {{inputs: ['{SAMPLE}/messages.jsonl']}}\n")
    assert run_cli("run", str(r)).returncode == 0
    again = run_cli("run", str(r), "--set", "convert.to=sharegpt")
    assert "unchanged" not in again.stderr and again.returncode == 0


def test_recipe_validation_names_stage_and_parameter(tmp_path):
    bad_stage = _recipe(tmp_path, "stages:\n  - convret: {}\n")
    r = run_cli("run", "--validate", str(bad_stage))
    assert r.returncode == 2 and "unknown stage 'convret'" in r.stderr and "did you mean 'convert'" in r.stderr
    bad_param = _recipe(tmp_path, "stages:\n  - convert: {inputs: [a.json], too: sharegpt}\n")
    r = run_cli("run", "--validate", str(bad_param))
    assert r.returncode == 2 and "unknown parameter 'too'" in r.stderr and "did you mean 'to'" in r.stderr
    assert "Traceback" not in r.stderr
    not_yaml = _recipe(tmp_path, "stages: [unclosed\n")
    r = run_cli("run", "--validate", str(not_yaml))
    assert r.returncode == 2 and "not valid YAML" in r.stderr


def test_failing_stage_stops_pipeline(tmp_path):
    r = _recipe(tmp_path, f"""
stages:
  - convert: {{inputs: ["{SAMPLE}/bad/bad_rows.jsonl"], max_error_rate: 0.1}}
  - validate: {{}}
""")
    res = run_cli("run", str(r))
    assert res.returncode == 1
    assert "later stages not run" in res.stderr
