"""sample_data/recipe_zh.yaml end to end (through the report) on the Chinese sample data.

The teacher is the loopback chat server here (the recipe's tiny local model is swapped out with
--set), so the test needs no torch and runs in seconds; the train stage is covered by
tests/test_demo.py. Checks what a Chinese-reading user sees: every stage ran and balanced, the
identity placeholders were filled, each stage echoed a real `curate …` command, and the report
is in Chinese.
"""

from __future__ import annotations

import orjson
import pytest

from tests.chat_server import ChatServer
from tests.conftest import SAMPLE, run_cli


@pytest.mark.slow  # ten stage subprocesses: ~15 s on a quiet 2-core machine, ~45 s on a busy one
def test_recipe_zh_until_report(tmp_path):
    wd = tmp_path / "run"
    with ChatServer() as srv:
        sets = []
        for stage in ("distill", "bestofk"):
            sets += ["--set", f"{stage}.backend=openai", "--set", f"{stage}.base_url={srv.url}",
                     "--set", f"{stage}.model=teacher"]
        res = run_cli("run", str(SAMPLE / "recipe_zh.yaml"), "--workdir", str(wd), "--until", "10-report",
                      "--set", f"bestofk.pairs={tmp_path / 'pairs.jsonl'}", *sets, "--ui-lang", "zh",
                      env={"OPENAI_API_KEY": "sk-test"})
    assert res.returncode == 0, res.stderr[-3000:]
    echoed = [line for line in res.stderr.splitlines() if line.startswith("[")]
    assert echoed[0].startswith("[canonical] curate convert ") and "curator convert" not in res.stderr
    manifests = sorted(wd.glob("*.manifest.json"))
    assert len(manifests) >= 9
    for m in manifests:
        counts = orjson.loads(m.read_bytes())["counts"]
        assert counts["balanced"], (m.name, counts)
    canonical = orjson.loads((wd / "canonical.manifest.json").read_bytes())["counts"]
    assert canonical["rejected"] == 7  # one problem per row of zh/bad_rows.jsonl
    identity = (wd / "identity.jsonl").read_text(encoding="utf-8")
    assert "{{" not in identity and "小智" in identity and "星河团队" in identity
    assert "拒收" in res.stderr  # stage summaries in Chinese
    html = (wd / "10-report.html").read_text(encoding="utf-8")
    assert "<h2>概览</h2>" in html and 'lang="zh-CN"' in html
