"""`train` with no trainable record points at the rejects file: the file must exist and hold why."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from curator.rejects import read_rejects  # noqa: E402
from tests.conftest import run_cli  # noqa: E402


def test_no_trainable_record_leaves_the_rejects_file_it_names(tmp_path):
    from trainer.tiny import build_tiny_model

    tiny = build_tiny_model(tmp_path / "tiny")
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"}]}) + "\n"
                            for i in range(3)), encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli(str(data), "--model", str(tiny), "-o", str(out), "max_steps=1", module="trainer")
    assert r.returncode == 2 and "rejects file" in r.stderr and "Traceback" not in r.stderr
    rejects = read_rejects(out / "rejects.jsonl")
    assert len(rejects) == 3 and all(x["reason"] == "no_assistant" for x in rejects)
