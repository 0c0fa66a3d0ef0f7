"""Records/s of `--engine ray` vs `--engine local` on this machine, through the real CLI.

    PYTHONPATH=$PWD python bench/ray_bench.py [--n 200000]

Starts one local Ray instance (all cores) and runs each command with both engines on a generated
set of short records (the test suite's generator: ~0.1% bad rows, ~6% repeats). Prints wall
seconds and records/s for each, and Ray's fixed cost (joining the cluster and starting workers,
measured on a 5-record file) so the per-record rate can be read without it; then dedup's LSH step
two ways (Ray shuffle vs band keys gathered on the driver).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_engine_ray import make_big  # noqa: E402  (one generator for tests and bench)


def cli(*args: str) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "curator", *args], cwd=ROOT, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise SystemExit(f"curate {' '.join(args)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    a = ap.parse_args()
    import ray

    from curator.engine.ray_run import available_cpus

    t = time.perf_counter()
    ray.init(num_cpus=available_cpus(), include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    start = time.perf_counter() - t
    addr = ray.get_runtime_context().gcs_address
    tmp = Path(tempfile.mkdtemp(prefix="ray_bench_"))
    data = tmp / "big.jsonl"
    make_big(data, a.n)
    small = ROOT / "sample_data" / "messages.jsonl"
    cmds = {"convert": ["convert", str(data), "--to", "sharegpt"],
            "validate": ["validate", str(data)],
            "score": ["score", str(data), "--rubric", "no_refusal"]}
    small_src = tmp / "small.jsonl"  # a second mix source: the first 20k lines
    with open(data, encoding="utf-8") as src, open(small_src, "w", encoding="utf-8") as dst:
        for _, line in zip(range(20_000), src):
            dst.write(line)
    cmds["filter"] = ["filter", str(data)]
    cmds["dedup"] = ["dedup", str(data)]
    cmds["mix"] = ["mix", f"{data}:0.6", f"{small_src}:0.4", "--max-repeats", "3"]
    fixed = cli("convert", str(small), "-o", str(tmp / "s.jsonl"), "--engine", "ray", "--ray-address", addr)
    print(f"{a.n} records, {data.stat().st_size / 1e6:.1f} MB, {available_cpus()} cores, "
          f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"ray.init (local instance): {start:.1f}s; per-command fixed cost (join + start workers, 5 records): "
          f"{fixed:.1f}s")
    print(f"{'command':10} {'local s':>8} {'local rec/s':>12} {'ray s':>8} {'ray rec/s':>10} "
          f"{'ray rec/s w/o fixed':>20}")
    for name, args in cmds.items():
        tl = cli(*args, "-o", str(tmp / f"{name}.local.jsonl"))
        tr = cli(*args, "-o", str(tmp / f"{name}.ray.jsonl"), "--engine", "ray", "--ray-address", addr)
        print(f"{name:10} {tl:8.1f} {a.n / tl:12,.0f} {tr:8.1f} {a.n / tr:10,.0f} {a.n / max(tr - fixed, 1e-9):20,.0f}")
    ray.shutdown()
    lsh_compare(data, tmp / "dedup.ray.jsonl")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def lsh_compare(data: Path, ray_out: Path) -> None:
    """Dedup's LSH candidate step two ways: the Ray shuffle (phase timings from the Ray run's manifest)
    vs gathering every band key on the driver (`lsh_candidates`, what the local engine does)."""
    import json

    from curator.dedup import DedupConfig, lsh_candidates, sketch_records
    from curator.engine.ray_run import available_cpus
    from curator.io import read_records
    from curator.minhash import optimal_bands
    from curator.rejects import RejectSink, manifest_path

    phases = json.loads(manifest_path(ray_out).read_text())["dedup"]["ray"]
    cfg = DedupConfig()
    sk = sketch_records(read_records(data, rejects=RejectSink(None)), cfg, workers=available_cpus())
    arr = sk.arrays()
    t = time.perf_counter()
    lsh_candidates(arr, cfg, *optimal_bands(cfg.threshold, cfg.minhash.num_perm))
    driver = time.perf_counter() - t
    print(f"dedup --engine ray phases: {phases}")
    print(f"LSH candidates: Ray groupby shuffle {phases['lsh_shuffle_s']:.2f}s vs band keys gathered on the "
          f"driver {driver:.2f}s (same pairs)")


if __name__ == "__main__":
    main()
