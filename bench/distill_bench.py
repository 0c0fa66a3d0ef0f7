"""Distill throughput against a loopback chat server with a fixed latency, vs distilabel.

    python bench/distill_bench.py [--prompts 2000] [--latency 0.2] [--concurrency 64 256]
                                  [--client-processes 1 2 4] [--repeat 3]
                                  [--distilabel-python /tmp/distilabel-venv/bin/python]

The server (`tests/chat_server.py`) runs in its own process so it does not share our GIL. For each
concurrency C we run the same path `curate distill` runs (generator + OpenAI backend +
`distill_record`, cache off) and print requests/s beside the bound C / latency: with a fixed
latency no client can beat it, so the ratio shows how much of the window stays busy. Each row of
ours is the median of `--repeat` runs (all printed), once per `--client-processes` value.

distilabel 1.5.3 (TextGeneration + OpenAILLM, cache off) runs as a subprocess with the Python of
a separate venv, because it pins other library versions; set it up with
``python -m venv /tmp/distilabel-venv && /tmp/distilabel-venv/bin/pip install "distilabel[openai]==1.5.3" requests``.
The bench says so and skips that column when the venv is absent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DISTILABEL_SCRIPT = textwrap.dedent("""
    import sys, time, logging
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import TextGeneration
    from distilabel.models import OpenAILLM

    url, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = [{"instruction": f"Prompt number {i}: say something."} for i in range(n)]
    with Pipeline(name="bench") as pipeline:
        load = LoadDataFromDicts(data=data, batch_size=max(batch, 50))
        gen = TextGeneration(llm=OpenAILLM(model="teacher", base_url=url, api_key="EMPTY"),
                             input_batch_size=batch)
        load >> gen
    t0 = time.perf_counter()
    ds = pipeline.run(use_cache=False)
    dt = time.perf_counter() - t0
    rows = ds["default"]["train"]
    ok = sum(1 for r in rows if r.get("generation"))
    print(f"RESULT {ok} {dt:.3f}")
""")


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "chat_server.py"), "--latency", str(latency)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("chat server did not start")
    return proc, url


async def run_ours(url: str, n: int, concurrency: int, processes: int = 1) -> tuple[int, float]:
    from curator.backends import make_backend
    from curator.distill import DistillConfig, distill_record
    from curator.generation import Generator
    from curator.record import Conversation, Message

    os.environ.setdefault("BENCH_KEY", "EMPTY")
    # Built before the clock starts, as `curate distill` builds it before reading input: the
    # client import (and, with client processes, their start) is set-up, not request throughput.
    backend = make_backend("openai", model="teacher", base_url=url, api_key_env="BENCH_KEY",
                           concurrency=concurrency, client_processes=processes)
    generator = Generator(backend, concurrency=concurrency, cache=None)
    cfg = DistillConfig()
    # A distinct prompt per run, so no server-side effect can carry over.
    tag = f"c={concurrency} p={processes} {time.perf_counter_ns()}"
    convs = (Conversation([Message("user", f"Prompt number {i} at {tag}: say something.")]) for i in range(n))
    ok = 0
    t0 = time.perf_counter()
    async for outcome in generator.map_ordered(convs, lambda c: distill_record(c, generator, cfg)):
        ok += len(outcome.records)
    dt = time.perf_counter() - t0
    await backend.aclose()
    return ok, dt


def run_ours_as_cli(url: str, n: int, concurrency: int, processes: int) -> tuple[int, float]:
    """`run_ours` under the collector settings `curate distill` runs with (restored afterwards, so
    the bare-client rows run with CPython's defaults)."""
    from curator.gc_tuning import throughput_gc

    with throughput_gc():
        return asyncio.run(run_ours(url, n, concurrency, processes))


async def run_bare_client(url: str, n: int, concurrency: int) -> tuple[int, float]:
    """The ceiling for any tool built on the official client: `AsyncOpenAI` alone (aiohttp transport,
    keep-alive pool as large as the window), `concurrency` tasks each posting its share of the
    prompts back to back — no generator, no records, no retries, no cache."""
    import httpx2
    import openai

    http = openai.DefaultAioHttpClient(limits=httpx2.Limits(max_connections=max(concurrency, 100),
                                                            max_keepalive_connections=concurrency), timeout=120)
    client = openai.AsyncOpenAI(api_key="EMPTY", base_url=url, max_retries=0, http_client=http)
    todo = iter(range(n))
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for i in todo:
            body = {"model": "teacher", "messages": [{"role": "user", "content": f"Bare prompt {i}: say something."}]}
            resp = await client.post("/chat/completions", body=body, cast_to=object)
            ok += bool(resp["choices"][0]["message"]["content"])

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    dt = time.perf_counter() - t0
    await client.close()
    return ok, dt


def run_distilabel(python: str, url: str, n: int, batch: int) -> tuple[int, float] | str:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(DISTILABEL_SCRIPT)
        script = fh.name
    env = dict(os.environ, DISTILABEL_LOG_LEVEL="ERROR", PYTHONPATH="")
    try:
        cp = subprocess.run([python, script, url, str(n), str(batch)], capture_output=True, text=True, env=env,
                            timeout=1800, cwd=tempfile.gettempdir())
    finally:
        os.unlink(script)
    for line in cp.stdout.splitlines():
        if line.startswith("RESULT "):
            _, ok, dt = line.split()
            return int(ok), float(dt)
    return f"distilabel failed (exit {cp.returncode}): {cp.stderr.strip().splitlines()[-1:] }"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--client-processes", type=int, nargs="+", default=[1, 2, 4],
                    help="--client-processes values to run ours with at each concurrency")
    ap.add_argument("--repeat", type=int, default=3, help="runs per row of ours; the median is printed")
    ap.add_argument("--distilabel-python", default="/tmp/distilabel-venv/bin/python")
    ap.add_argument("--distilabel-batch", type=int, nargs="+", default=[50, 200],
                    help="distilabel input_batch_size values (50 is its default)")
    args = ap.parse_args()

    import openai  # noqa: F401  imported before the collector is tuned, as `curate distill` does
    proc, url = start_server(args.latency)
    print(f"loopback server {url}, fixed latency {args.latency * 1000:.0f} ms, {args.prompts} prompts, "
          f"{os.cpu_count()} CPUs")
    print(f"{'tool':<34} {'ok':>6} {'seconds':>8} {'req/s':>8} {'bound':>8} {'of bound':>9}")
    try:
        ours: dict[int, float] = {}
        for c in args.concurrency:
            bound = c / args.latency
            for p in args.client_processes:
                runs = sorted((ok / dt, ok, dt) for ok, dt in (run_ours_as_cli(url, args.prompts, c, p)
                                                               for _ in range(args.repeat)))
                rps, ok, dt = runs[len(runs) // 2]  # the median run
                ours[c] = max(ours.get(c, 0.0), rps)
                label = f"sft-curator distill c={c}" + (f" x{p} procs" if p > 1 else "")
                spread = f"  (runs: {', '.join(f'{r[0]:.0f}' for r in runs)})" if len(runs) > 1 else ""
                print(f"{label:<34} {ok:>6} {dt:>8.2f} {rps:>8.1f} {bound:>8.0f} "
                      f"{rps / bound:>8.0%}{spread}", flush=True)
            ok, dt = asyncio.run(run_bare_client(url, args.prompts, c))
            print(f"{'  bare AsyncOpenAI client c=' + str(c):<34} {ok:>6} {dt:>8.2f} {ok / dt:>8.1f} {bound:>8.0f} "
                  f"{ok / dt / bound:>8.0%}", flush=True)
        py = args.distilabel_python
        best_dl = None
        dl_default = 0.0
        if not Path(py).exists():
            print(f"distilabel: {py} not found — skipped (see the module docstring to set up its venv)")
        else:
            for b in args.distilabel_batch:
                res = run_distilabel(py, url, args.prompts, b)
                if isinstance(res, str):
                    print(f"distilabel 1.5.3 batch={b}: {res}")
                    continue
                ok, dt = res
                rps = ok / dt
                best_dl = max(best_dl or 0.0, rps)
                dl_default = rps if b == args.distilabel_batch[0] else dl_default
                print(f"{'distilabel 1.5.3 batch=' + str(b):<34} {ok:>6} {dt:>8.2f} {rps:>8.1f} "
                      f"{b / args.latency:>8.0f} {rps / (b / args.latency):>8.0%}", flush=True)
        if best_dl:
            for c, rps in ours.items():
                print(f"speed-up at c={c} over distilabel: {rps / (dl_default or best_dl):.1f}x its default batch, "
                      f"{rps / best_dl:.1f}x its best")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
