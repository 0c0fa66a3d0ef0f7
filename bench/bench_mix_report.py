"""Throughput and peak memory of `curate report` and `curate mix` on real data scaled up.

    python bench/bench_mix_report.py [--copies 20]

Builds a JSONL of gsm8k_train_alpaca (7473 records) repeated --copies times and alpaca_zh_demo
likewise (from ../shared/data/real), then runs the real CLI in a subprocess and prints
records/s and the child's peak RSS. For comparison it interleaves the same two files with
Hugging Face `datasets.interleave_datasets` (probabilities 0.8/0.2, what LLaMA-Factory uses).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"


def scaled(src: Path, dst: Path, copies: int) -> int:
    rows = json.loads(src.read_text())
    n = 0
    with dst.open("w", encoding="utf-8") as f:
        for c in range(copies):
            for r in rows:
                r = dict(r, instruction=f"{r['instruction']} ({c})")
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
                n += 1
    return n


def run(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one child process."""
    t = time.perf_counter()
    code = ("import resource,runpy,sys; sys.argv=['curate']+sys.argv[1:]; "
            "exec('try:\\n runpy.run_module(\"curator\", run_name=\"__main__\")\\nexcept SystemExit: pass'); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    dt = time.perf_counter() - t
    rss = int(p.stderr.strip().splitlines()[-1]) / 1024
    return dt, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=20)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        t = Path(td)
        n1 = scaled(REAL / "gsm8k_train_alpaca.json", t / "gsm.jsonl", a.copies)
        n2 = scaled(REAL / "alpaca_zh_demo.json", t / "zh.jsonl", a.copies)
        print(f"inputs: gsm.jsonl {n1} records, zh.jsonl {n2} records")
        dt, rss = run(["report", str(t / "gsm.jsonl"), "-o", str(t / "r.html")])
        print(f"curate report gsm.jsonl            {n1 / dt:9.0f} records/s  peak RSS {rss:6.0f} MB  ({dt:.1f}s)")
        dt, rss = run(["mix", f"{t / 'gsm.jsonl'}:0.8", f"{t / 'zh.jsonl'}:0.2", "-o", str(t / "m.jsonl")])
        print(f"curate mix 0.8/0.2 (records)       {(n1 + n2) / dt:9.0f} input records/s  peak RSS {rss:6.0f} MB  ({dt:.1f}s)")
        dt, rss = run(["mix", f"{t / 'gsm.jsonl'}:0.8", f"{t / 'zh.jsonl'}:0.2", "--by", "tokens", "-o", str(t / "m2.jsonl")])
        print(f"curate mix 0.8/0.2 (tokens, est.)  {(n1 + n2) / dt:9.0f} input records/s  peak RSS {rss:6.0f} MB  ({dt:.1f}s)")
        code = f"""
import resource, time
from datasets import load_dataset, interleave_datasets
t=time.perf_counter()
a=load_dataset('json', data_files='{t / 'gsm.jsonl'}', split='train', cache_dir='{t / 'hf'}')
b=load_dataset('json', data_files='{t / 'zh.jsonl'}', split='train', cache_dir='{t / 'hf'}')
m=interleave_datasets([a,b], probabilities=[0.8,0.2], seed=0, stopping_strategy='first_exhausted')
m.to_json('{t / 'hf.jsonl'}', force_ascii=False)
print(len(m), time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)
"""
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if p.returncode == 0:
            n, dt, rss = p.stdout.split()[-3:]
            print(f"datasets.interleave_datasets       {(n1 + n2) / float(dt):9.0f} input records/s  peak RSS "
                  f"{float(rss):6.0f} MB  ({float(dt):.1f}s, {n} out, no per-source cap or manifest)")
        else:
            print("datasets comparison failed:", p.stderr.strip().splitlines()[-1:])


if __name__ == "__main__":
    main()
