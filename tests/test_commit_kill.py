"""kill -9 at every step of the commit: output, rejects and manifest stay consistent.

The real `curate convert` runs in a subprocess that SIGKILLs itself at a named commit step
(SFT_CURATOR_KILL_AT, a hook in curator.runner). After each kill: a manifest that exists
vouches for exactly the files beside it; the data file is the old one or the new one, whole;
the next run of the same output removes the killed run's temp files.
"""

from __future__ import annotations

import signal

import orjson
import pytest

from curator.atomic import clean_stale
from curator.manifest import is_committed
from tests.conftest import run_cli

POINTS = ["finished", "uncommitted", "rejects", "output", "manifest"]


def _rows(n_good: int, n_bad: int, tag: str) -> bytes:
    good = [orjson.dumps({"id": f"{tag}{i}", "messages": [{"role": "user", "content": f"q{i}"},
                                                          {"role": "assistant", "content": f"a{i}"}]})
            for i in range(n_good)]
    bad = [orjson.dumps({"id": f"{tag}bad{i}", "messages": [{"role": "asistant", "content": "x"}]})
           for i in range(n_bad)]
    return b"\n".join(good + bad) + b"\n"


def _lines(p) -> int:
    return len(p.read_bytes().splitlines()) if p.exists() else -1


def _check_consistent(d, old: tuple[int, int], new: tuple[int, int]) -> None:
    data, rej, man = d / "out.jsonl", d / "out.rejects.jsonl", d / "out.manifest.json"
    got = (_lines(data), _lines(rej))
    assert got[0] in (old[0], new[0])  # never missing, never half
    assert got[1] in (old[1], new[1])
    if man.exists():
        assert is_committed(man)
        c = orjson.loads(man.read_bytes())["counts"]
        assert (c["out"], c["rejected"]) == got


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_at_each_commit_step_leaves_consistent_files(tmp_path, point):
    src = tmp_path / "in.jsonl"
    src.write_bytes(_rows(3, 1, "old"))
    assert run_cli("convert", str(src), "-o", str(tmp_path / "out.jsonl")).returncode == 0
    src.write_bytes(_rows(5, 2, "new"))
    res = run_cli("convert", str(src), "-o", str(tmp_path / "out.jsonl"), env={"SFT_CURATOR_KILL_AT": point})
    assert res.returncode == -signal.SIGKILL, res.stderr
    _check_consistent(tmp_path, old=(3, 1), new=(5, 2))
    if point == "manifest":
        assert _lines(tmp_path / "out.jsonl") == 5 and is_committed(tmp_path / "out.manifest.json")
    if point in ("finished", "uncommitted", "rejects"):  # temp files left by the killed run
        assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    res = run_cli("convert", str(src), "-o", str(tmp_path / "out.jsonl"))
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "out.manifest.json",
                                                          "out.rejects.jsonl"]
    assert is_committed(tmp_path / "out.manifest.json")


@pytest.mark.slow
def test_killed_folder_swap_is_restored_by_the_next_run(tmp_path):
    pytest.importorskip("datasets")
    src = tmp_path / "in.jsonl"
    src.write_bytes(_rows(3, 0, "a"))
    out = tmp_path / "ds"
    assert run_cli("convert", str(src), "-o", str(out)).returncode == 0
    for point in ("uncommitted", "output"):
        res = run_cli("convert", str(src), "-o", str(out), env={"SFT_CURATOR_KILL_AT": point})
        assert res.returncode == -signal.SIGKILL
        assert (out / "state.json").is_file()  # the folder is never missing
    # a kill between the two renames of a swap (where the OS cannot exchange folders) leaves the
    # old folder aside under the dead process's id; the next run puts it back
    aside = tmp_path / ".ds.4194999.old"
    out.rename(aside)
    assert clean_stale(out) == [] and (out / "state.json").is_file() and not aside.exists()
    res = run_cli("convert", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
