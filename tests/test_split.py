"""Split: exact sizes by ratio and count, stratification, determinism, leakage moved or reported."""

from __future__ import annotations

import pytest

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np

from curator.split import assign, resolve_sizes, stratum_label
from tests.conftest import run_cli


def test_assign_sizes_exact_and_stratified():
    strata = np.array([0] * 800 + [1] * 200)
    sizes = resolve_sizes(1000, [("eval", 0.1), ("test", 50)])
    assert sizes == {"eval": 100, "test": 50}
    s = assign(strata, sizes, seed=3, names=["train", "eval", "test"])
    assert Counter(s.tolist()) == {0: 850, 1: 100, 2: 50}
    assert Counter(strata[s == 1].tolist()) == {0: 80, 1: 20}  # proportional to the 80/20 strata
    assert Counter(strata[s == 2].tolist()) == {0: 40, 1: 10}
    assert np.array_equal(s, assign(strata, sizes, seed=3, names=["train", "eval", "test"]))
    assert not np.array_equal(s, assign(strata, sizes, seed=4, names=["train", "eval", "test"]))


def test_stratum_labels():
    assert stratum_label(["b", "a"]) == "a|b" and stratum_label(None) == "<none>" and stratum_label(3) == "3"


WORDS = ("river stone cloud apple engine violet harbor pencil garden silver winter candle mirror orbit "
         "tiger meadow lantern copper velvet thunder").split()


def _rows(n: int) -> list[dict]:
    rng = random.Random(0)
    rows = []
    for i in range(n):
        tag = "math" if i % 4 == 0 else "chat"
        words = " ".join(rng.choice(WORDS) for _ in range(8))
        rows.append({"messages": [{"role": "user", "content": f"Task {i}: describe {words}."},
                                  {"role": "assistant", "content": f"Item {i * 7919} is explained here."}],
                     "meta": {"tags": [tag]}})
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(p: Path) -> list[dict]:
    return [json.loads(l) for l in p.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_cli_split_ratio_stratified_deterministic(tmp_path):
    src = _write(tmp_path / "in.jsonl", _rows(400))
    r = run_cli("split", str(src), "-o", str(tmp_path / "a"), "--eval-size", "0.1", "--test-size", "20",
                "--stratify", "meta.tags", "--seed", "7", "--workers", "1")
    assert r.returncode == 0, r.stderr
    tr, ev, te = (_read(tmp_path / "a" / f"{n}.jsonl") for n in ("train", "eval", "test"))
    assert (len(tr), len(ev), len(te)) == (340, 40, 20)
    assert Counter(x["meta"]["tags"][0] for x in ev) == {"math": 10, "chat": 30}
    assert {x["meta"]["split"] for x in ev} == {"eval"}
    assert not ({x["id"] for x in tr} & {x["id"] for x in ev})
    man = json.loads((tmp_path / "a" / "train.manifest.json").read_text())
    assert man["counts"]["balanced"] and man["split"]["counts"] == {"train": 340, "eval": 40, "test": 20}
    r = run_cli("split", str(src), "--train", str(tmp_path / "t.jsonl"), "--eval", str(tmp_path / "e.jsonl"),
                "--eval-size", "0.1", "--test-size", "0", "--stratify", "meta.tags", "--seed", "7", "--workers", "2")
    assert r.returncode == 0, r.stderr
    r2 = run_cli("split", str(src), "--train", str(tmp_path / "t2.jsonl"), "--eval", str(tmp_path / "e2.jsonl"),
                 "--eval-size", "0.1", "--stratify", "meta.tags", "--seed", "7", "--workers", "1")
    assert r2.returncode == 0, r2.stderr
    assert (tmp_path / "e.jsonl").read_bytes() == (tmp_path / "e2.jsonl").read_bytes()


def test_cli_split_leakage_moved_or_reported(tmp_path):
    base = _rows(100)
    leaky = []
    for r in base[:30]:  # near-copies of 30 prompts (punctuation + suffix)
        c = json.loads(json.dumps(r))
        c["messages"][0]["content"] = c["messages"][0]["content"].replace(":", "") + " Thanks!"
        leaky.append(c)
    src = _write(tmp_path / "in.jsonl", base + leaky)
    r = run_cli("split", str(src), "-o", str(tmp_path / "m"), "--eval-size", "0.3", "--seed", "1",
                "--report", str(tmp_path / "leak.jsonl"), "--workers", "1")
    assert r.returncode == 0, r.stderr
    tr, ev = _read(tmp_path / "m" / "train.jsonl"), _read(tmp_path / "m" / "eval.jsonl")
    assert len(tr) + len(ev) == 130
    task = lambda x: x["messages"][0]["content"].split()[1].rstrip(":")  # noqa: E731
    assert not ({task(x) for x in tr} & {task(x) for x in ev})  # no prompt on both sides
    leaks = _read(tmp_path / "leak.jsonl")
    assert leaks and all(len({m["split"] for m in c["members"]}) > 1 for c in leaks)
    man = json.loads((tmp_path / "m" / "train.manifest.json").read_text())
    assert man["split"]["leaking_clusters"] == len(leaks) and man["counts"]["balanced"]

    r = run_cli("split", str(src), "-o", str(tmp_path / "r"), "--eval-size", "0.3", "--seed", "1",
                "--leakage", "report", "--workers", "1")
    assert r.returncode == 0, r.stderr
    ev = _read(tmp_path / "r" / "eval.jsonl")
    assert len(ev) == 39  # report only: the requested 30% stays in eval
    tr = _read(tmp_path / "r" / "train.jsonl")
    assert {task(x) for x in tr} & {task(x) for x in ev}  # ...and the leak is still there, as reported


def test_cli_split_usage_errors(tmp_path):
    src = _write(tmp_path / "in.jsonl", _rows(10))
    r = run_cli("split", str(src), "--train", str(tmp_path / "t.jsonl"))
    assert r.returncode == 2 and "--eval" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("split", str(src), "-o", str(tmp_path / "x"), "--eval-size", "8", "--test-size", "5")
    assert r.returncode == 2 and "more than" in r.stderr
