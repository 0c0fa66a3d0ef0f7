"""The evaluation loop goes round once, offline, on the tiny model: the shipped script
sample_data/eval_loop/round.sh (train -> train eval -> badcases -> augment -> distill -> bestofk
-> mix -> train --init-adapter -> train eval --compare), run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLE


@pytest.mark.slow  # nine commands, two trainings: minutes on a shared 2-core machine
def test_one_round_of_the_loop(tmp_path):
    pytest.importorskip("trl")
    w = tmp_path / "loop"
    env = dict(os.environ, PY=sys.executable, PYTHONPATH=str(ROOT), STEPS="2")
    env.pop("TEACHER_URL", None)
    r = subprocess.run(["bash", str(SAMPLE / "eval_loop" / "round.sh"), str(w)], env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r1 = json.loads((w / "round1" / "eval" / "train_eval.json").read_text())
    assert r1["badcases"]["count"] > 0 and r1["eval"]["tasks"]
    new = [json.loads(x) for x in (w / "new_prompts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert new and all(n["meta"]["augmented_from"] for n in new)
    assert all(any("\u4e00" <= c <= "\u9fff" for c in n["messages"][0]["content"]) for n in new)  # Chinese stays Chinese
    best = (w / "best.jsonl").read_text(encoding="utf-8").splitlines()
    mixed = [json.loads(x) for x in (w / "mixed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert best and any(m["meta"].get("augmented_from") for m in mixed)
    assert "init_adapter:" in (w / "round2" / "train_config.yaml").read_text()
    r2 = json.loads((w / "round2" / "eval" / "train_eval.json").read_text())
    assert r2["compare"]["tasks"] and r2["verdict"]
    assert "round done" in r.stdout
