"""`curate mix --workers N` (curator/engine/local_mix.py) writes what one process writes: the same
output, rejects and manifest counts for the same seed, on real data, hostile rows, up-sampling
(several epochs), tokens, strata, several sources (spooled) and a format that rejects some copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


def _jsonl(path: Path, rows: list, extra_lines: list[str] = ()) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HOSTILE = ['{"bad json', '\ufeff{"instruction": "bom", "output": "x"}', "[]", '"a string"',
           '{"instruction": "", "output": ""}', '{"instruction": 5, "output": "x"}', "",
           '{"instruction": "q", "output": "<think>r</think>a"}', '{"instruction": "q\\u0000", "output": "a"}']


@pytest.fixture
def sources(tmp_path, real) -> dict[str, Path]:
    en = json.loads((real / "alpaca_en_demo.json").read_text(encoding="utf-8"))
    for k, r in enumerate(en):
        r["category"] = ["a", "b", "c"][k % 3]
    zh = json.loads((real / "alpaca_zh_demo.json").read_text(encoding="utf-8"))[:300]
    return {
        "en": _jsonl(tmp_path / "en.jsonl", en, HOSTILE),  # bad rows rejected on pass 1
        "zh": _jsonl(tmp_path / "zh.jsonl", zh),
        "tools": real / "glaive_toolcall_en_demo.json",  # a JSON array: multi-turn tool calls
        "gsm": real / "gsm8k_train_alpaca.json",
    }


def _mix(tmp_path: Path, tag: str, args: list[str], workers: str) -> tuple[bytes, bytes, dict]:
    out = tmp_path / f"{tag}-{workers}" / "out.jsonl"
    r = run_cli("mix", *args, "-o", str(out), "--workers", workers)
    assert r.returncode == 0, r.stderr
    manifest = json.loads(out.with_name("out.manifest.json").read_text())
    return out.read_bytes(), out.with_name("out.rejects.jsonl").read_bytes(), manifest


CASES = {
    "one-source": lambda s: [f"{s['gsm']}"],
    "one-source-rejects": lambda s: [str(s["tools"]), "--to", "alpaca"],
    "ratios-repeats": lambda s: [f"{s['en']}:0.6", f"{s['zh']}:0.3", f"{s['gsm']}:0.1", "--max-repeats", "3",
                                 "--total", "2500", "--seed", "7"],
    "temperature": lambda s: [str(s["en"]), str(s["zh"]), "--temperature", "2", "--max-repeats", "4"],
    "tokens-strata": lambda s: [f"{s['en']}:0.5", f"{s['zh']}:0.5", "--by", "tokens", "--max-repeats", "2",
                                "--stratify", "extra.category"],
    "to-alpaca": lambda s: [f"{s['tools']}:0.5", f"{s['en']}:0.5", "--to", "alpaca", "--max-repeats", "2"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_workers_write_what_one_process_writes(tmp_path, sources, case):
    args = CASES[case](sources)
    one = _mix(tmp_path, case, args, "1")
    two = _mix(tmp_path, case, args, "2")
    assert one[0] == two[0] and one[1] == two[1]
    for key in ("counts", "mix", "formats_detected", "output_sizes"):
        assert one[2][key] == two[2][key], key
    assert one[0].count(b"\n") > (30 if case == "one-source-rejects" else 100)
    if case in ("ratios-repeats", "temperature"):
        assert b'"repeat":2' in one[0]  # several epochs were written
    if case in ("to-alpaca", "one-source-rejects"):
        assert one[1].count(b"\n") > 10  # tool-call copies alpaca cannot hold, rejected the same way
    if case == "tokens-strata":
        assert one[1].count(b"\n") >= 5  # the hostile rows


def test_a_fifo_source_is_read_by_one_process(tmp_path, sources):
    import os
    import threading

    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    data = sources["zh"].read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    t = threading.Thread(target=feed)
    t.start()
    out = tmp_path / "fifo" / "out.jsonl"
    r = run_cli("mix", f"{fifo}:0.5", f"{sources['en']}:0.5", "-o", str(out), "--workers", "2")
    t.join()
    # a FIFO is never cut into ranges for workers; mix reads its inputs twice, so it says so in one line
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "is a pipe that was already read" in r.stderr and "save it to a file first" in r.stderr
