"""The output-path guard: nothing of the user's is overwritten or deleted, on real files."""

from __future__ import annotations

import os
import shutil

import orjson
import pytest

from curator.errors import UsageError
from curator.outpaths import MARKER_NAME, check_outputs
from tests.conftest import run_cli

ROW = {"id": "a", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def _data(path, n=3):
    path.write_bytes(b"".join(orjson.dumps({**ROW, "id": f"r{i}"}) + b"\n" for i in range(n)))
    return path


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv", [
    ["convert", "d.jsonl", "-o", "d.jsonl"],
    ["convert", "d.jsonl", "-o", "link.jsonl"],              # a symlink to the input
    ["convert", "d.jsonl", "-o", "hard.jsonl"],              # a hard link to the input
    ["convert", "d.rejects.jsonl", "-o", "d.jsonl"],         # the output's rejects file is an input
    ["mix", "d.jsonl:1.0", "-o", "d.jsonl"],
    ["report", "d.jsonl", "-o", "d.jsonl"],
    ["report", "d.jsonl", "-o", "r.html", "--json", "r.html"],
    ["split", "d.jsonl", "--train", "d.jsonl", "--eval", "e.jsonl"],
    ["split", "d.jsonl", "--train", "t.jsonl", "--eval", "t.jsonl"],
    ["dedup", "d.jsonl", "-o", "o.jsonl", "--report", "d.jsonl"],
    ["convert", "d.jsonl", "-o", "project"],                 # a user's folder
    ["convert", "d.jsonl", "-o", "."],
    ["convert", "d.jsonl", "-o", ".."],
    ["convert", "d.jsonl", "-o", "d.jsonl/x.jsonl"],         # a file's "child"
    ["convert", "d.jsonl", "-o", "project.jsonl"],           # an existing folder named like a file
])
def test_clashing_outputs_exit_2_and_write_nothing(tmp_path, argv):
    work = tmp_path / "work"
    work.mkdir()
    _data(work / "d.jsonl")
    _data(work / "d.rejects.jsonl", 1)
    (work / "link.jsonl").symlink_to(work / "d.jsonl")
    os.link(work / "d.jsonl", work / "hard.jsonl")
    (work / "project").mkdir()
    (work / "project" / "notes.txt").write_text("mine")
    (work / "project.jsonl").mkdir()
    (work / "project.jsonl" / "keep").write_text("mine too")
    (tmp_path / "sibling.txt").write_text("parent's file")
    before = _snapshot(tmp_path)
    res = run_cli(*argv, cwd=work)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "error:" in res.stderr
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ["d.jsonl", "d.rejects.jsonl", "link.jsonl", "hard.jsonl", "project", "project.jsonl"])


def test_review_export_accepted_over_the_reviewed_file_is_refused(tmp_path):
    d = _data(tmp_path / "d.jsonl")
    before = d.read_bytes()
    res = run_cli("review", "export", str(d), "--accepted", str(d))
    assert res.returncode == 2 and "is also an input" in res.stderr
    assert d.read_bytes() == before


@pytest.mark.slow
def test_datasets_folder_replaces_only_our_own_folder(tmp_path):
    pytest.importorskip("datasets")
    src = _data(tmp_path / "d.jsonl")
    out = tmp_path / "ds"
    res = run_cli("convert", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert (out / MARKER_NAME).is_file() and (out / "state.json").is_file()
    # our folder is replaced by a new run (swapped by rename), and nothing is left beside it
    _data(src, 5)
    res = run_cli("convert", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert orjson.loads((tmp_path / "ds.manifest.json").read_bytes())["counts"]["out"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl", "ds", "ds.manifest.json", "ds.rejects.jsonl"]
    # a datasets folder someone else saved (no marker) is not ours to replace
    (out / MARKER_NAME).unlink()
    res = run_cli("convert", str(src), "-o", str(out))
    assert res.returncode == 2 and "did not write" in res.stderr
    assert (out / "state.json").is_file()


def test_guard_unit_cases(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    _data(tmp_path / "in" / "a.jsonl")
    (tmp_path / "empty").mkdir()
    # an empty folder and a new path are fine; an output inside an input folder is not
    check_outputs([("-o", tmp_path / "empty")], [tmp_path / "in" / "a.jsonl"])
    with pytest.raises(UsageError, match="inside the input folder"):
        check_outputs([("-o", tmp_path / "in" / "x.jsonl")], [tmp_path / "in"])
    with pytest.raises(UsageError, match="would replace the folder"):
        (tmp_path / "in" / MARKER_NAME).write_text("")
        check_outputs([("-o", tmp_path / "in")], [tmp_path / "in" / "a.jsonl"])
    with pytest.raises(UsageError, match="outside the run folder"):
        check_outputs([("stage", tmp_path / "runs" / ".." / "escaped.jsonl")], [], root=tmp_path / "runs")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        check_outputs([("-o", fifo)], [])
    shutil.rmtree(tmp_path / "in")
