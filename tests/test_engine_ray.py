"""`--engine ray` gives the same records, rejects and counts as `--engine local`.

One local Ray instance (2 CPUs) is started for the module; each CLI run joins it with
`--ray-address`, so the real entry point, the real Ray Data executor and real worker processes
are exercised. Compared: the output record set, the rejects (reason, message, source, line, id,
record) and the manifest counts; for convert/validate/score also the bytes (the engine keeps
input order).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from curator.rejects import manifest_path, read_rejects, rejects_path
from tests.conftest import run_cli

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_address():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _lines(path: Path) -> list[str]:
    return sorted(x for x in path.read_text(encoding="utf-8").splitlines() if x.strip())


def _rejects(out: Path) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in read_rejects(rejects_path(out)))


def both(tmp_path: Path, address: str, *args: str, out_name: str = "out.jsonl", code: int = 0) -> tuple[Path, Path]:
    """Run one command with each engine; assert same exit code, records, rejects and counts."""
    outs = []
    for engine in ("local", "ray"):
        out = tmp_path / engine / out_name
        out.parent.mkdir(exist_ok=True)
        extra = ["--engine", engine] + (["--ray-address", address] if engine == "ray" else [])
        r = run_cli(*args, "-o", str(out), *extra)
        assert r.returncode == code, r.stderr
        outs.append(out)
    local, remote = outs
    assert _lines(local) == _lines(remote)
    assert _rejects(local) == _rejects(remote)
    ml, mr = (json.loads(manifest_path(o).read_text()) for o in outs)
    assert ml["counts"] == mr["counts"] and mr["counts"]["balanced"]
    assert mr["params"]["engine"] == "ray"
    return local, remote


def test_convert_sample_and_bad_rows(tmp_path, sample, ray_address):
    inputs = [str(p) for p in sorted((sample / "bad").glob("*.jsonl"))] + [
        str(sample / "alpaca.json"), str(sample / "sharegpt.json"), str(sample / "messages.jsonl"),
        str(sample / "reasoning_r1.jsonl")]
    local, remote = both(tmp_path, ray_address, "convert", *inputs, code=0)
    # input order is kept, so the files are byte-identical, not only the same sets
    assert local.read_bytes() == remote.read_bytes()
    assert rejects_path(local).read_bytes() == rejects_path(remote).read_bytes()
    lines = {(r["source"], r["line"]) for r in read_rejects(rejects_path(remote))}
    assert any(src.endswith("bad_rows.jsonl") and line == 11 for src, line in lines)


def test_convert_to_sharegpt_parquet_input(tmp_path, sample, ray_address):
    src = tmp_path / "in.parquet"
    r = run_cli("convert", str(sample / "messages.jsonl"), "-o", str(src))
    assert r.returncode == 0, r.stderr
    both(tmp_path, ray_address, "convert", str(src), "--to", "sharegpt")


def test_validate_counts_and_report(tmp_path, sample, ray_address):
    local, remote = both(tmp_path, ray_address, "validate", str(sample / "bad" / "bad_rows.jsonl"),
                         str(sample / "messages.jsonl"), code=1)
    assert json.loads(manifest_path(remote).read_text())["counts"]["rejected"] > 0


def test_score_rule_rubrics(tmp_path, sample, ray_address):
    both(tmp_path, ray_address, "score", str(sample / "messages.jsonl"), str(sample / "reasoning_r1.jsonl"),
         str(sample / "prompts.jsonl"), "--rubric", "no_refusal", "--rubric", str(sample / "rubric_recipe.yaml"))


def test_score_refuses_a_judge_on_ray(tmp_path, sample, ray_address):
    r = run_cli("score", str(sample / "messages.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--rubric", "helpfulness",
                "--judge-model", "m", "--judge-base-url", "http://127.0.0.1:9/v1", "--engine", "ray",
                "--ray-address", ray_address)
    assert r.returncode == 2 and "rule rubrics only" in r.stderr and "Traceback" not in r.stderr


def test_unknown_engine_is_a_usage_error(tmp_path, sample):
    r = run_cli("convert", str(sample / "messages.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--engine", "spark")
    assert r.returncode == 2 and "choose local or ray" in r.stderr


# --------------------------------------------------------------------------- 200,000 records
TOPICS = ["photosynthesis", "binary search", "光合作用", "二分查找", "tides", "潮汐", "recursion", "递归"]


def make_big(path: Path, n: int = 200_000, seed: int = 7) -> None:
    """Short records, with bad rows, refusals, exact and near duplicates scattered through."""
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            t = TOPICS[i % len(TOPICS)]
            k = rnd.randrange(1000)
            if k == 0:
                fh.write('{"messages": [broken\n')
                continue
            if k == 1:
                row = {"messages": [{"role": "asistant", "content": "x"}]}
            else:
                j = i if k > 60 else rnd.randrange(max(1, i))  # ~6% repeat an earlier record's text
                answer = (f"I'm sorry, I can't help with {t}." if k == 2 else
                          f"Answer {j}: {t} explained in a few words, item {j % 977}, note {j * 7919 % 10007}.")
                if k == 3:  # PII for filter's pii step
                    answer += f" Write to user{j}@example.com or call 13812345678."
                elif 3 < k <= 20:  # ~1.7% near-duplicates of an earlier record (a small edit)
                    answer += " See above."
                row = {"id": f"r{i}", "messages": [{"role": "user", "content": f"Question {j} about {t}?"},
                                                   {"role": "assistant", "content": answer}]}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("big") / "big.jsonl"
    make_big(p)
    return p


def test_big_convert(tmp_path, big, ray_address):
    local, remote = both(tmp_path, ray_address, "convert", str(big), "--to", "sharegpt")
    m = json.loads(manifest_path(remote).read_text())["counts"]
    assert m["in"] == 200_000 and m["rejected"] > 300 and m["out"] + m["rejected"] == 200_000
    assert local.read_bytes() == remote.read_bytes()


def test_big_score(tmp_path, big, ray_address):
    both(tmp_path, ray_address, "score", str(big), "--rubric", "no_refusal")
