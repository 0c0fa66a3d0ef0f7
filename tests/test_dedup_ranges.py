"""Dedup over input ranges on forked workers, and `--rejects-mode ref`.

- the range path (`curator.engine.local_dedup`, 1 or 3 workers, ranges of 1 MiB) writes the same
  output, rejects and reports as the plain streamed two-pass code (`dedup_stage._run_streamed`);
- ref mode: same output; each dropped duplicate's reject holds a verified reference instead of the
  record, is much smaller, and reads back (`curator.formats.rejects`) to the very records full
  mode copies; an edited input gives a `ref_changed` reject, not a different record;
- inputs without byte offsets (gzip) keep full records in ref mode.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from curator.dedup import DedupConfig
from curator.formats import DEFAULT_READ
from curator.rejects import read_rejects, rejects_path
from curator.runner import CommandRun
from tests.conftest import run_cli

WORDS = ("river light stone paper blue quiet table window garden music number simple answer question "
         "reason market winter summer travel letter friend orange silver yellow circle").split()


def _rows(n: int, seed: int = 5) -> list[dict]:
    """Records with long answers, exact copies and one-word edits, plus two bad rows' worth of
    structure problems (written separately)."""
    rnd = random.Random(seed)
    rows: list[dict] = []
    for i in range(n):
        if rows and rnd.random() < 0.15:
            base = rnd.choice(rows[-50:])
            ans = base["messages"][1]["content"].split(" ")
            if rnd.random() < 0.5:
                ans[rnd.randrange(len(ans))] = "indeed"
            row = {"messages": [dict(base["messages"][0]), {"role": "assistant", "content": " ".join(ans)}]}
        else:
            text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(40, 160)))
            row = {"messages": [{"role": "user", "content": f"Question {i}: {rnd.choice(WORDS)}?"},
                                {"role": "assistant", "content": text}]}
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """~3 MB of JSONL (several 1 MiB ranges) with duplicates that straddle ranges, and bad rows."""
    d = tmp_path_factory.mktemp("ranges")
    lines = [json.dumps(r, ensure_ascii=False) for r in _rows(4000)]
    lines.insert(7, "{not json")
    lines.insert(2500, json.dumps({"messages": [{"role": "asistant", "content": "x"}]}))
    p = d / "in.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _run(tmp: Path, name: str, *args: str) -> Path:
    out = tmp / name / "out.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    r = run_cli("dedup", *args, "-o", str(out), "--report", str(out.parent / "report.jsonl"),
                "--conflicts", str(out.parent / "conflicts.jsonl"))
    assert r.returncode == 0, r.stderr
    return out


def _files(out: Path) -> tuple[bytes, ...]:
    return tuple((out.parent / n).read_bytes() for n in (out.name, rejects_path(out).name, "report.jsonl",
                                                          "conflicts.jsonl"))


def _streamed(tmp: Path, src: Path) -> Path:
    """The plain two-pass code (what a stream input runs), called in this process."""
    from curator.dedup_stage import _run_streamed

    out = tmp / "streamed" / "out.jsonl"
    out.parent.mkdir(parents=True)
    with CommandRun("dedup", out=out, params={}, inputs=[src], quiet=True) as run:
        _run_streamed(run, [src], DedupConfig(), from_=None, ropts=DEFAULT_READ,
                      encoding=None, workers=1, report=out.parent / "report.jsonl",
                      conflicts=out.parent / "conflicts.jsonl")
    return out


@pytest.mark.slow
def test_ranges_on_workers_equal_the_streamed_passes(tmp_path, data):
    plain = _files(_streamed(tmp_path, data))
    one = _files(_run(tmp_path, "w1", str(data), "--workers", "1"))
    three = _files(_run(tmp_path, "w3", str(data), "--workers", "3"))
    assert one == plain and three == plain
    rej = [json.loads(x) for x in plain[1].splitlines()]
    assert {"bad_json", "unknown_role"} <= {r["reason"] for r in rej} or len({r["reason"] for r in rej}) >= 3
    assert sum(r["reason"] in ("duplicate", "near_duplicate") for r in rej) > 300


@pytest.mark.slow
def test_ref_mode_small_same_output_and_reads_back(tmp_path, data):
    full = _run(tmp_path, "full", str(data), "--workers", "2")
    ref = _run(tmp_path, "ref", str(data), "--workers", "2", "--rejects-mode", "ref")
    assert _files(full)[0] == _files(ref)[0]  # the kept records do not depend on the mode
    assert _files(full)[2:] == _files(ref)[2:]
    man = json.loads((ref.parent / "out.manifest.json").read_text())
    assert man["counts"]["balanced"] and man["params"]["rejects_mode"] == "ref"
    full_rej, ref_rej = read_rejects(rejects_path(full)), read_rejects(rejects_path(ref))
    assert [(r["reason"], r["line"], r["id"]) for r in full_rej] == [(r["reason"], r["line"], r["id"]) for r in ref_rej]
    for r in ref_rej:
        if r["reason"] in ("duplicate", "near_duplicate"):
            assert r["record"] is None and r["ref"]["line"] == r["line"] and r["ref"]["format"] == "messages"
            assert r["duplicate_of_origin"]["source"] == str(data)
            raw = data.read_bytes()[r["ref"]["offset"]:r["ref"]["offset"] + r["ref"]["length"]]
            assert json.loads(raw)["messages"]  # the offset points at the whole line
        else:  # bad rows are not duplicates: they keep their raw text to fix
            assert r["record"] is not None and "ref" not in r
    # a reference line has a bounded size, whatever the record's; these records are short (~600 bytes)
    assert rejects_path(ref).stat().st_size < 0.6 * rejects_path(full).stat().st_size
    assert max(len(x) for x in rejects_path(ref).read_bytes().splitlines() if b'"ref"' in x) < 800

    # read back as input, both rejects files give the same records, byte for byte
    backs = []
    for out in (full, ref):
        back = out.parent / "back.jsonl"
        r = run_cli("convert", str(rejects_path(out)), "-o", str(back))
        assert r.returncode == 0, r.stderr
        backs.append(back.read_bytes())
    assert backs[0] == backs[1] and backs[0].count(b"\n") == len(full_rej) - 2


def test_ref_to_an_edited_input_is_a_clear_reject(tmp_path, data):
    src = tmp_path / "copy.jsonl"
    src.write_bytes(data.read_bytes())
    out = _run(tmp_path, "ref", str(src), "--workers", "1", "--rejects-mode", "ref")
    refs = [r for r in read_rejects(rejects_path(out)) if r.get("ref")]
    victim = refs[0]["ref"]
    blob = bytearray(src.read_bytes())
    at = victim["offset"] + victim["length"] - 5
    blob[at:at + 1] = b"Z" if blob[at:at + 1] != b"Z" else b"Y"  # one byte inside the referenced line
    src.write_bytes(bytes(blob))
    back = tmp_path / "back.jsonl"
    r = run_cli("convert", str(rejects_path(out)), "-o", str(back), "--max-error-rate", "1")
    assert r.returncode == 0, r.stderr
    again = read_rejects(rejects_path(back))
    changed = [x for x in again if x["reason"] == "ref_changed"]
    assert len(changed) == 1 and f"{src}:{victim['line']}" in changed[0]["message"]
    assert back.read_bytes().count(b"\n") == len(refs) - 1 + (len(read_rejects(rejects_path(out))) - len(refs) - 2)

    src.unlink()  # the input is gone: every reference says so, none crashes the run
    r = run_cli("convert", str(rejects_path(out)), "-o", str(tmp_path / "gone.jsonl"), "--max-error-rate", "1")
    assert r.returncode == 0, r.stderr
    assert sum(x["reason"] == "ref_unreadable" for x in read_rejects(tmp_path / "gone.rejects.jsonl")) == len(refs)


def test_ref_mode_keeps_full_records_for_inputs_without_offsets(tmp_path):
    src = tmp_path / "in.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        for row in _rows(300, seed=9):
            fh.write(json.dumps(row) + "\n")
    out = _run(tmp_path, "gz", str(src), "--rejects-mode", "ref")
    rej = read_rejects(rejects_path(out))
    assert rej and all(r["record"] is not None and "ref" not in r for r in rej)


def test_rejects_mode_usage_error(tmp_path, data):
    r = run_cli("dedup", str(data), "-o", str(tmp_path / "o.jsonl"), "--rejects-mode", "links")
    assert r.returncode == 2 and "--rejects-mode" in r.stderr and "Traceback" not in r.stderr


def test_review_shows_the_record_a_reference_points_at(tmp_path, data):
    from curator.review.items import interpret

    out = _run(tmp_path, "ref", str(data), "--workers", "1", "--rejects-mode", "ref")
    row = next(r for r in read_rejects(rejects_path(out)) if r.get("ref"))
    item = interpret(0, 1, row)
    assert item.kind == "reject" and item.members[0].conv is not None
    assert item.members[0].conv.id == row["id"] and item.duplicate_of == row["duplicate_of"]
    gone = dict(row, ref=dict(row["ref"], file=str(tmp_path / "moved.jsonl")))
    item = interpret(0, 1, gone)
    assert item.members[0].conv is None and "ref_unreadable" in str(item.members[0].raw)
