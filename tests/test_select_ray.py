"""`--engine ray` for `select` and `dedup --semantic`: the lexical embedding mapped over Ray gives
byte-identical output, unselected/rejects files and embedding store to `--engine local`.

One local Ray instance (2 CPUs) for the module; each CLI run joins it with `--ray-address`, so the
real entry point and real Ray worker processes are exercised. 5,000 records: more than one
embedding span per task round (2,048 texts each) and above the centring minimum (1,000), with
near-paraphrases (so too_close / semantic_duplicate verdicts happen) and bad rows.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from curator.embed_store import store_paths
from curator.rejects import manifest_path, rejects_path
from curator.select_run import unselected_path
from tests.conftest import run_cli

ray = pytest.importorskip("ray")

WORDS = ("python list reverse sort dictionary merge file read write error network request 翻译 这段 文字 "
         "解释 一下 机器 学习 模型 训练 数据 清洗 写 一首 诗 关于 春天 summarize article explain recursion").split()


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("pool") / "pool.jsonl"
    lines = []
    for i in range(5000):
        if i % 10 == 9:  # a near-paraphrase of an earlier prompt
            prompt = json.loads(lines[rng.randrange(len(lines))])["instruction"] + " please"
        else:
            prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
        lines.append(json.dumps({"instruction": prompt, "output": f"answer {i}",
                                 "scores": None}, ensure_ascii=False))
        if i % 1000 == 500:
            lines.append('{"instruction": broken json')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _both(tmp_path: Path, address: str, *args: str) -> tuple[Path, Path]:
    outs = []
    for engine in ("local", "ray"):
        out = tmp_path / engine / "out.jsonl"
        out.parent.mkdir()
        extra = ["--engine", engine] + (["--ray-address", address] if engine == "ray" else [])
        r = run_cli(*args, "-o", str(out), *extra)
        assert r.returncode == 0, r.stderr
        outs.append(out)
    local, remote = outs
    assert local.read_bytes() == remote.read_bytes()
    assert rejects_path(local).read_bytes() == rejects_path(remote).read_bytes()
    for a, b in zip(store_paths(local), store_paths(remote)):
        assert a.read_bytes() == b.read_bytes(), a.name
    ml, mr = (json.loads(manifest_path(o).read_text()) for o in outs)
    assert ml["counts"] == mr["counts"] and mr["counts"]["balanced"]
    assert mr["params"]["engine"] == "ray"
    return local, remote


@pytest.mark.slow
def test_select_ray_is_byte_identical(tmp_path, pool, ray_address):
    local, remote = _both(tmp_path, ray_address, "select", str(pool), "--budget", "400", "--threshold", "0.8")
    assert unselected_path(local).read_bytes() == unselected_path(remote).read_bytes()
    ml, mr = (json.loads(manifest_path(o).read_text())["select"] for o in (local, remote))
    assert (ml["engine"], mr["engine"]) == ("local", "ray")
    assert mr["ray_embed_tasks"] >= 3  # 5,000 texts = 3 spans of whole chunks: the workers embedded them
    assert ml["status"] == mr["status"] and ml["status"]["too_close"] and ml["status"]["below_budget"]


@pytest.mark.slow
def test_semantic_dedup_ray_is_byte_identical(tmp_path, pool, ray_address):
    local, _ = _both(tmp_path, ray_address, "dedup", str(pool), "--semantic", "0.9")
    reasons = [json.loads(x).get("reason") for x in rejects_path(local).read_text(encoding="utf-8").splitlines()]
    assert "semantic_duplicate" in reasons
