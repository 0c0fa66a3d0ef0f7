"""A recipe runs no code the user did not name, and writes only inside its run folder."""

from __future__ import annotations

import pytest

import os
import subprocess
import sys

import orjson

from tests.conftest import ROOT, SAMPLE, run_cli

# Each planted module leaves a file behind when imported: proof it ran.
PLANT = "import pathlib\npathlib.Path(__file__).with_name('{name}.RAN').write_text('x')\n"


def _curate(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    """`curate` as the console script starts it: the working folder is not on the import path."""
    e = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-P", "-m", "curator", *args], cwd=cwd, capture_output=True, text=True,
                          env=e, timeout=600)


def test_a_py_file_beside_the_recipe_is_never_imported(tmp_path):
    (tmp_path / "orjson.py").write_text(PLANT.format(name="orjson") + "raise SystemExit(99)\n")
    (tmp_path / "recipe.yaml").write_text(f"stages:\n  - convert: {{inputs: ['{SAMPLE}/messages.jsonl']}}\n")
    res = _curate("run", "recipe.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "orjson.RAN").exists()
    assert (tmp_path / "runs" / "recipe" / "01-convert.jsonl").exists()


@pytest.mark.slow
def test_user_function_loads_only_from_a_named_plugins_folder(tmp_path):
    (tmp_path / "evil.py").write_text(PLANT.format(name="evil") + "def check(conv, **kw):\n    return True\n")
    (tmp_path / "filters.yaml").write_text("- user: {function: 'evil:check'}\n")
    (tmp_path / "recipe.yaml").write_text(
        f"stages:\n  - convert: {{inputs: ['{SAMPLE}/messages.jsonl']}}\n  - filter: {{recipe: filters.yaml}}\n")
    res = _curate("run", "recipe.yaml", cwd=tmp_path)
    assert "user code this recipe imports:" in res.stderr and "evil:check" in res.stderr
    assert res.returncode == 2 and "cannot import module 'evil'" in res.stderr
    assert not (tmp_path / "evil.RAN").exists()
    res = _curate("run", "recipe.yaml", "--plugins", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "evil.RAN").exists()


@pytest.mark.slow
def test_stage_names_are_plain_and_outputs_stay_in_the_run_folder(tmp_path):
    src = f"['{SAMPLE}/messages.jsonl']"
    for name in ("../../../ESCAPED", "sp.eval", "a/b"):
        r = tmp_path / "r.yaml"
        r.write_text(f"stages:\n  - convert: {{name: '{name}', inputs: {src}}}\n")
        res = run_cli("run", str(r))
        assert res.returncode == 2 and "not a plain name" in res.stderr, res.stderr
    assert not list(tmp_path.parent.glob("ESCAPED*")) and not (tmp_path / "runs").exists()
    # a side output written in the recipe outside the run folder, and one over another stage's output
    r.write_text(f"stages:\n  - convert: {{inputs: {src}}}\n  - dedup: {{report: ../outside.jsonl}}\n")
    res = run_cli("run", "--validate", str(r))
    assert res.returncode == 2 and "outside the run folder" in res.stderr
    r.write_text(f"stages:\n  - convert: {{inputs: {src}}}\n  - dedup: {{report: runs/r/01-convert.jsonl}}\n")
    res = run_cli("run", "--validate", str(r))
    assert res.returncode == 2 and "which stage 1 (01-convert) data also writes" in res.stderr
    assert not (tmp_path / "outside.jsonl").exists()


def test_score_refuses_standard_library_functions(tmp_path):
    inp = tmp_path / "d.jsonl"
    inp.write_bytes(orjson.dumps({"id": "1", "messages": [{"role": "user", "content": "hi"},
                                                          {"role": "assistant", "content": "touch PWNED"}]}) + b"\n")
    for ref in ("os:system", "subprocess:getoutput", "builtins:eval"):
        res = run_cli("score", str(inp), "-o", str(tmp_path / "o.jsonl"), "-r", ref, cwd=tmp_path)
        assert res.returncode == 2 and "not user code" in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "o.jsonl").exists()
