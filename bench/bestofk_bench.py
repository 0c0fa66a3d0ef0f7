"""Best-of-K throughput: prompts/s for K=4 and K=8, with a rule rubric and with an LLM-judge
rubric, against the loopback chat server (fixed latency per request), and the share of time
spent scoring (summed per-prompt scoring time / summed per-prompt time).

    PYTHONPATH=. python bench/bestofk_bench.py --prompts 64 --latency 0.05 --concurrency 32

Needs the generation layer (curator.generation) and tests/chat_server.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    from tests.scripted_server import ScriptedServer

    tmp = Path(tempfile.mkdtemp(prefix="bestofk_bench_"))
    src = tmp / "prompts.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(args.prompts):
            cands = " | ".join(f"Answer {i}-{j}: the moon's gravity raises tides, variant {j}. Q={1 + (i + j) % 9}"
                               for j in range(8))
            fh.write(json.dumps({"messages": [{"role": "user", "content": f"Question {i}? CANDS: {cands}"}]}) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-bench"}
    print(f"{args.prompts} prompts, server latency {args.latency}s/request, concurrency {args.concurrency}")
    print(f"{'K':>2} {'rubric':<28} {'prompts/s':>10} {'requests':>9} {'scoring share':>14}")
    with ScriptedServer(latency=args.latency) as srv:
        for k in (4, 8):
            for label, rubric in (("rules (sample recipe)", ["--rubric", str(ROOT / "sample_data/rubric_recipe.yaml")]),
                                  ("judge (helpfulness)", ["--rubric", "helpfulness", "--judge-model", "judge",
                                                           "--judge-base-url", srv.url])):
                out = tmp / f"k{k}_{label.split()[0]}.jsonl"
                srv.reset_counts()
                t0 = time.perf_counter()
                r = subprocess.run([sys.executable, "-m", "curator", "bestofk", str(src), "-o", str(out), "--model", "m",
                                    "--base-url", srv.url, "--k", str(k), "--near-dup", "1", "--concurrency",
                                    str(args.concurrency), *rubric], env=env, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                if r.returncode != 0:
                    print(r.stderr)
                    raise SystemExit(1)
                man = json.loads(out.with_name(out.stem + ".manifest.json").read_text())
                b = man["bestofk"]
                share = b["scoring_seconds_summed"] / max(b["prompt_seconds_summed"], 1e-9)
                print(f"{k:>2} {label:<28} {args.prompts / b['seconds']:>10.1f} {srv.requests:>9} {share:>13.0%}"
                      f"   (wall incl. start-up {wall:.1f}s)")


if __name__ == "__main__":
    main()
