"""Benchmark: the commands as a user runs them, end to end, on one large JSONL file.

Builds (once, under --dir) an Alpaca JSONL of long records from the real data in
../shared/data/real (alpaca en/zh, GSM8K, GPTeacher), about --record-bytes each, with ~3%
near-duplicates (a copy with a small edit) scattered through, up to --size-mb. Then runs, each in
its own process so peak RSS is that process's own:

  floor     a bare orjson read -> loads -> dumps -> write loop (what a user would write by hand);
  polars    `pl.read_ndjson` -> `write_ndjson` (the tool a user would reach for), and duckdb's
            `COPY (SELECT * FROM read_json(...)) TO ...` when installed;
  curate    convert (Alpaca -> canonical, validation on), then on the canonical file: validate,
            filter (default recipe: no language ID), dedup, mix (one source, by records), report.

It prints MB/s of the command's input, records/s, peak RSS and seconds, all end to end (process
start, reading, writing output, rejects and manifest). The machine is noisy: compare the rows of
one run (ratios), not absolute times across runs.

Usage: python bench/cli_throughput.py [--size-mb 1000] [--workers auto] [--only convert,dedup] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
SOURCES = ("alpaca_en_demo.json", "alpaca_zh_demo.json", "gsm8k_train_alpaca.json", "gpteacher_roleplay.json",
           "gpteacher_toolformer_dedupe_only.json")

FLOOR = r"""
import sys, orjson
with open(sys.argv[1], "rb") as fi, open(sys.argv[2], "wb") as fo:
    for line in fi:
        fo.write(orjson.dumps(orjson.loads(line)) + b"\n")
"""
POLARS = r"""
import sys, polars as pl
pl.read_ndjson(sys.argv[1]).write_ndjson(sys.argv[2])
"""
DUCKDB = r"""
import sys, duckdb
duckdb.sql(f"COPY (SELECT * FROM read_json('{sys.argv[1]}', format='newline_delimited')) TO '{sys.argv[2]}' (FORMAT json)")
"""

# The measured command runs under this wrapper, so the peak RSS is the command's own process tree
# (a forked child's RSS would otherwise include pages it shared with this larger process).
WRAP = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.PIPE); ru = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(ru.ru_maxrss, rc, ru.ru_utime + ru.ru_stime)")


def build_input(path: Path, size_mb: int, record_bytes: int, seed: int = 11) -> int:
    """Write the Alpaca input; returns the record count."""
    rows = []
    for name in SOURCES:
        p = REAL / name
        if p.exists():
            rows += [r for r in orjson.loads(p.read_bytes()) if r.get("instruction") and r.get("output")]
    if not rows:
        sys.exit(f"no real data under {REAL}")
    rnd = random.Random(seed)
    limit = size_mb * 1_000_000
    written = n = 0
    recent: list[dict] = []
    with open(path, "wb") as fh:
        while written < limit:
            if recent and rnd.random() < 0.03:  # a near-duplicate of a recent record: one word changed
                base = rnd.choice(recent)
                words = base["output"].split(" ")
                words[rnd.randrange(len(words))] = "indeed"
                row = {"instruction": base["instruction"], "input": base["input"], "output": " ".join(words)}
            else:
                r = rows[rnd.randrange(len(rows))]
                out = r["output"]
                while len(out.encode()) < record_bytes * 0.7:  # long answers: a user's long records
                    out += "\n\n" + rows[rnd.randrange(len(rows))]["output"]
                row = {"instruction": f"{r['instruction']} (#{n})", "input": r.get("input") or "", "output": out}
                recent = (recent + [row])[-200:]
            b = orjson.dumps(row) + b"\n"
            fh.write(b)
            written += len(b)
            n += 1
    return n


def timed(cmd: list[str]) -> tuple[float, float, int, float, str]:
    """(wall seconds, peak RSS MB, exit code, CPU seconds, stderr tail)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # an installed package runs from compiled bytecode (pip writes it): let the commands cache theirs,
    # so start-up is measured as a user meets it, not with every module compiled from source each run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAP, *cmd], env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    try:
        kib, rc, cpu = proc.stdout.split()
        return dt, int(kib) / 1024, int(rc), float(cpu), proc.stderr[-400:]
    except ValueError:
        return dt, float("nan"), proc.returncode or 1, float("nan"), proc.stderr[-400:]


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            n += block.count(b"\n")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1000)
    ap.add_argument("--record-bytes", type=int, default=950)
    ap.add_argument("--workers", default="auto", help="--workers for convert, validate and filter")
    ap.add_argument("--only", default="", help="comma-separated subset of: floor,polars,duckdb,convert,validate,"
                    "filter,dedup,dedup-ref,mix,report")
    ap.add_argument("--dir", default="/tmp/curator_cli_bench")
    ap.add_argument("--keep", action="store_true", help="keep the outputs (the generated input is always kept)")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    src = d / f"alpaca_{a.size_mb}mb.jsonl"
    if not src.exists():
        t0 = time.perf_counter()
        n = build_input(src, a.size_mb, a.record_bytes)
        print(f"built {src}: {n:,} records, {src.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - t0:.0f}s",
              flush=True)
    py = sys.executable
    canon = d / "canonical.jsonl"
    w = ["--workers", a.workers]
    runs = [
        ("floor", "bare orjson loop", src, [py, "-c", FLOOR, str(src), str(d / "floor.jsonl")]),
        ("polars", "polars read/write_ndjson", src, [py, "-c", POLARS, str(src), str(d / "polars.jsonl")]),
        ("duckdb", "duckdb read_json -> COPY", src, [py, "-c", DUCKDB, str(src), str(d / "duckdb.jsonl")]),
        ("convert", "curate convert", src, [py, "-m", "curator", "convert", str(src), "-o", str(canon), *w]),
        ("validate", "curate validate", canon, [py, "-m", "curator", "validate", str(canon), *w]),
        ("filter", "curate filter (default recipe)", canon,
         [py, "-m", "curator", "filter", str(canon), "-o", str(d / "filtered.jsonl"), *w]),
        ("dedup", "curate dedup", canon, [py, "-m", "curator", "dedup", str(canon), "-o", str(d / "dedup.jsonl")]),
        ("dedup-ref", "curate dedup --rejects-mode ref", canon,
         [py, "-m", "curator", "dedup", str(canon), "-o", str(d / "dedup_ref.jsonl"), "--rejects-mode", "ref"]),
        ("mix", "curate mix (one source)", canon,
         [py, "-m", "curator", "mix", f"{canon}:1.0", "-o", str(d / "mix.jsonl")]),
        ("report", "curate report", canon, [py, "-m", "curator", "report", str(canon), "-o", str(d / "report.html")]),
    ]
    only = {x.strip() for x in a.only.split(",") if x.strip()}
    if "convert" not in only and only and not canon.exists():
        only.add("convert")  # the later commands read its output
    lines = {}
    print(f"{'':34} {'MB/s':>7} {'records/s':>10} {'peak RSS MB':>11} {'seconds':>8} {'CPU-s':>7}", flush=True)
    for key, label, inp, cmd in runs:
        if only and key not in only:
            continue
        if key in ("polars", "duckdb"):
            try:
                __import__(key)
            except ImportError:
                print(f"{label:34} (not installed: pip install {key})")
                continue
        size = inp.stat().st_size / 1e6
        recs = lines.setdefault(inp, count_lines(inp))
        dt, rss, rc, cpu, err = timed(cmd)
        flag = "" if rc in (0, 1) else f"  (exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''})"
        rej = d / f"{key.replace('-', '_')}.rejects.jsonl"
        if key.startswith("dedup") and rej.exists():  # what --rejects-mode changes
            flag += f"  rejects {rej.stat().st_size / 1e6:,.1f} MB"
        print(f"{label:34} {size / dt:7.1f} {recs / dt:10,.0f} {rss:11.0f} {dt:8.1f} {cpu:7.1f}{flag}", flush=True)
    if not a.keep:
        for f in d.glob("*"):
            if f != src and f.is_file():
                f.unlink()


if __name__ == "__main__":
    main()
