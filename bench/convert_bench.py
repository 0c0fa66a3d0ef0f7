"""Benchmark: `curate convert` Alpaca JSONL -> messages JSONL (validation on) vs a bare orjson loop.

Builds a 1,000,000-record Alpaca JSONL under /tmp from the real data in ../shared/data/real
(alpaca_en/zh demos, gsm8k, the GPTeacher sets), each row varied so the records are distinct,
then times, each in its own process so peak RSS is that process's own (os.wait4 rusage):

  1. `python -m curator convert big.jsonl -o out.jsonl` (the real CLI, validation on), and
     `--workers N` when asked;
  2. a bare read -> orjson.loads -> build messages -> orjson.dumps -> write loop: the floor a
     user would write by hand with the fastest JSON library, no validation, no ids, no rejects.

Usage: python bench/convert_bench.py [--records 1000000] [--workers 2] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
SOURCES = ("alpaca_en_demo.json", "alpaca_zh_demo.json", "gsm8k_train_alpaca.json", "gpteacher_roleplay.json",
           "gpteacher_toolformer_dedupe_only.json")

BARE = r"""
import sys, orjson
src, dst = sys.argv[1], sys.argv[2]
with open(src, "rb") as fi, open(dst, "wb") as fo:
    for line in fi:
        r = orjson.loads(line)
        inp = r.get("input") or ""
        user = r["instruction"] + "\n" + inp if inp else r["instruction"]
        fo.write(orjson.dumps({"messages": [{"role": "user", "content": user},
                                            {"role": "assistant", "content": r["output"]}]}) + b"\n")
"""


def build_input(path: Path, n: int) -> None:
    rows = []
    for name in SOURCES:
        p = REAL / name
        if p.exists():
            rows += [r for r in orjson.loads(p.read_bytes()) if r.get("instruction") and r.get("output")]
    if not rows:
        sys.exit(f"no real data under {REAL}")
    with open(path, "wb") as fh:
        for i in range(n):
            r = rows[i % len(rows)]
            # Vary every copy so ids (content hashes) and texts differ like in a real corpus.
            row = {"instruction": f"{r['instruction']} (#{i})", "input": r.get("input") or "", "output": r["output"]}
            fh.write(orjson.dumps(row) + b"\n")


# The measured command runs under this tiny wrapper: a forked child's peak RSS includes the
# pages it shared with its parent before exec, so measuring from this (larger) process would
# report at least this process's size for every command.
WRAP = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
        "ru = resource.getrusage(resource.RUSAGE_CHILDREN); print(ru.ru_maxrss, rc, ru.ru_utime + ru.ru_stime)")


def timed(cmd: list[str]) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS MB of the command's own process, exit code, CPU seconds)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAP, *cmd], env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode:
        print(proc.stderr, file=sys.stderr)
        return dt, float("nan"), proc.returncode, float("nan")
    kib, rc, cpu = proc.stdout.split()
    if int(rc):
        print(proc.stderr, file=sys.stderr)
    return dt, int(kib) / 1024, int(rc), float(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=0, help="also time `convert --workers N` (0: skip)")
    ap.add_argument("--dir", default="/tmp/curator_bench")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    src = d / f"alpaca_{a.records}.jsonl"
    if not src.exists():
        t0 = time.perf_counter()
        build_input(src, a.records)
        print(f"built {src} ({src.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s")
    py = sys.executable
    results = []
    runs = [("curate convert (validation on)", [py, "-m", "curator", "convert", str(src), "-o", str(d / "ours.jsonl")])]
    if a.workers:
        runs.append((f"curate convert --workers {a.workers}",
                     [py, "-m", "curator", "convert", str(src), "-o", str(d / "ours_w.jsonl"), "--workers", str(a.workers)]))
    runs.append(("bare orjson loop (no validation)", [py, "-c", BARE, str(src), str(d / "bare.jsonl")]))
    for label, cmd in runs:
        dt, rss, rc, cpu = timed(cmd)
        results.append((label, a.records / dt, a.records / cpu, rss, dt, rc))
    # records per CPU-second too: on a shared machine wall time depends on the neighbours' load.
    print(f"{'':36} {'records/s':>10} {'rec/CPU-s':>10} {'peak RSS MB':>12} {'seconds':>8}")
    for label, rps, rpc, rss, dt, rc in results:
        flag = "" if rc == 0 else f"  (exit {rc})"
        print(f"{label:36} {rps:10,.0f} {rpc:10,.0f} {rss:12.0f} {dt:8.1f}{flag}")
    if a.workers:
        same = (d / "ours.jsonl").read_bytes() == (d / "ours_w.jsonl").read_bytes()
        print(f"--workers output byte-identical to single-process output: {same}")
    if not a.keep:
        for f in d.glob("*"):
            if f != src:
                f.unlink()


if __name__ == "__main__":
    main()
