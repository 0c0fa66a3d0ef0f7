"""Model ids that cannot be reached fail fast with one line naming the ways out."""

from __future__ import annotations

import time

import pytest

from curator.errors import UsageError
from curator.hub import check_model
from tests.conftest import SAMPLE, run_cli


def _env(tmp_path, **kw):
    # An empty HF cache, and an endpoint on a closed loopback port: "no network" without waiting.
    return {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "", **kw}


def test_train_with_unreachable_hub_is_one_line_and_fast(tmp_path):
    t0 = time.perf_counter()
    r = run_cli(str(SAMPLE / "messages.jsonl"), "--model", "Qwen/Qwen2.5-0.5B-Instruct", "-o", str(tmp_path / "o"),
                module="trainer", env=_env(tmp_path))
    assert time.perf_counter() - t0 < 30
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    for hint in ("HF_ENDPOINT", "modelscope download", "HF_HUB_OFFLINE", "local"):
        assert hint in lines[0]


def test_distill_local_backend_with_unreachable_hub(tmp_path):
    r = run_cli("distill", str(SAMPLE / "prompts.jsonl"), "-o", str(tmp_path / "d.jsonl"), "--backend", "transformers",
                "--model", "someorg/some-model", env=_env(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "unreachable" in r.stderr


def test_offline_flag_and_missing_folder(tmp_path, monkeypatch):
    for k, v in _env(tmp_path, HF_HUB_OFFLINE="1").items():
        monkeypatch.setenv(k, v)
    with pytest.raises(UsageError, match="HF_HUB_OFFLINE is set"):
        check_model("someorg/some-model")
    with pytest.raises(UsageError, match="no such folder"):
        check_model("./models/not-here")
    check_model(str(tmp_path))  # a local folder is always accepted as is
