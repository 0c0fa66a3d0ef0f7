"""`train` with no trainable record points at the rejects file: the file must exist and hold why."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from curator.rejects import read_rejects  # noqa: E402
from tests.conftest import run_cli  # noqa: E402


@pytest.mark.slow
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


def test_train_refuses_an_output_folder_that_is_not_its_own(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "q"},
                                             {"role": "assistant", "content": "a"}]}) + "\n", encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    (tmp_path / "model").mkdir()  # the guard runs before the model is loaded
    for out in (tmp_path / "mine", tmp_path):  # someone's folder; the folder holding the data
        r = run_cli(str(data), "--model", str(tmp_path / "model"), "-o", str(out), "max_steps=1", module="trainer")
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "did not" in r.stderr or "would replace the folder" in r.stderr, r.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
