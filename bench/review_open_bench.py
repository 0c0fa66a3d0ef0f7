"""Open a large JSONL in `curate review`'s model and print open time and RSS.

    python bench/review_open_bench.py [--rows 1000000] [--dir /tmp/review_bench]

Measures, in a fresh process each: the first open (index scan + cache write), a re-open (cached
index), and the first screen (decode the first 40 rows + first pending), against what a user
would otherwise do: `json.loads` of every line into a list (what a naive viewer does), and
`pandas.read_json(lines=True)` when pandas is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import resource, sys, time, json
t0 = time.perf_counter()
what, path = sys.argv[1], sys.argv[2]
if what == "review":
    from curator.review.session import ReviewSession
    s = ReviewSession(path)
    t_open = time.perf_counter() - t0
    rows = [s.item(i).first_words() for i in range(40)]
    s.first_pending()
    n = len(s)
    t = time.perf_counter() - t0
    extra = f"open {t_open:.2f}s"
elif what == "app":
    import asyncio
    from curator.review.app import ReviewApp
    from curator.review.session import ReviewSession
    async def main():
        s = ReviewSession(path)
        app = ReviewApp(s)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            return len(s), time.perf_counter() - t0
    n, t = asyncio.run(main())
    extra = "Textual app mounted headless, list + detail drawn"
elif what == "json_loads_all":
    with open(path, "rb") as fh:
        data = [json.loads(line) for line in fh]
    n, t, extra = len(data), time.perf_counter() - t0, ""
elif what == "pandas":
    import pandas as pd
    df = pd.read_json(path, lines=True)
    n, t, extra = len(df), time.perf_counter() - t0, ""
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{what:<16} {n:>9} rows  first screen {t:6.2f}s  peak RSS {rss:7.0f} MiB  {extra}")
"""


def make(path: Path, rows: int) -> None:
    if path.exists() and path.stat().st_size > 0:
        return
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write(json.dumps({"id": f"r{i}", "messages": [
                {"role": "system", "content": "You are a careful assistant."},
                {"role": "user", "content": f"问题 {i}: explain item {i} in two sentences, please."},
                {"role": "assistant", "content": f"Item {i} is an example. It exists to make this file large."}],
                "meta": {"score": (i % 100) / 100, "source": "bench"}}, ensure_ascii=False) + "\n")


def run(what: str, path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", CHILD, what, str(path)], env=env, capture_output=True, text=True)
    print(r.stdout.strip() or r.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dir", default="/tmp/review_bench")
    args = ap.parse_args()
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"bench_{args.rows}.jsonl"
    t = time.perf_counter()
    make(path, args.rows)
    print(f"file: {path} ({path.stat().st_size / 2**20:.0f} MiB, {args.rows} rows; made in {time.perf_counter() - t:.1f}s)")
    for p in (path.with_name(path.name + ".review.idx"), path.with_name(path.name + ".review.sqlite")):
        p.unlink(missing_ok=True)
    print("curate review (cold: scans the file, writes the index):")
    run("review", path)
    print("curate review (warm: cached index):")
    run("review", path)
    print("the whole app, headless (warm index):")
    run("app", path)
    print("alternatives:")
    run("json_loads_all", path)
    try:
        import pandas  # noqa: F401
        run("pandas", path)
    except ImportError:
        print("pandas not installed: skipped")


if __name__ == "__main__":
    main()
