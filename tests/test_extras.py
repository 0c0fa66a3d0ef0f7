"""Commands that need an extra say which one, in one line, when it is not installed (the light
install: core + [review]). The missing packages are hidden with an import hook in a
sitecustomize.py, the way a machine without them behaves."""

from __future__ import annotations

import pytest

import os

from tests.conftest import ROOT, SAMPLE, run_cli

BLOCKER = '''
import sys
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "trl", "peft", "textual", "ray"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _Hide())
'''


def _light(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    return {"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}


def _copy(tmp_path, name):
    dst = tmp_path / name
    dst.write_bytes((SAMPLE / name).read_bytes())
    return dst


def test_light_install_commands_name_their_extra(tmp_path):
    env = _light(tmp_path)
    cases = [
        (("train", str(SAMPLE / "messages.jsonl"), "--model", str(tmp_path), "-o", str(tmp_path / "o")), "[train]"),
        (("distill", str(SAMPLE / "prompts.jsonl"), "-o", str(tmp_path / "d.jsonl"), "--backend", "transformers",
          "--model", str(tmp_path)), "[train]"),
        (("review", str(_copy(tmp_path, "messages.jsonl"))), "[review]"),  # review keeps its index beside FILE
        (("stats", str(SAMPLE / "alpaca.json"), "--tokenizer", str(tmp_path)), "[train]"),
        (("convert", str(SAMPLE / "alpaca.json"), "-o", str(tmp_path / "c.jsonl"), "--engine", "ray"), "[ray]"),
    ]
    for args, extra in cases:
        if args[0] == "train":
            r = run_cli(*args[1:], module="trainer", env=env)
        else:
            r = run_cli(*args, env=env)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr)
        assert extra in lines[0] and "pip install" in lines[0], (args, lines)


@pytest.mark.slow
def test_light_install_still_converts_filters_and_reports(tmp_path):
    env = _light(tmp_path)
    assert run_cli("convert", str(SAMPLE / "alpaca.json"), "-o", str(tmp_path / "c.jsonl"), env=env).returncode == 0
    assert run_cli("filter", str(tmp_path / "c.jsonl"), "-o", str(tmp_path / "f.jsonl"), env=env).returncode == 0
    assert run_cli("dedup", str(tmp_path / "f.jsonl"), "-o", str(tmp_path / "d.jsonl"), env=env).returncode == 0
    assert run_cli("report", str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "r.html"), env=env).returncode == 0
