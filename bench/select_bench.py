"""Select, embeddings and semantic dedup: quality, coverage, speed and memory, in one run.

    PYTHONPATH=. python bench/select_bench.py [--n 100000] [--budget 5000] [--skip-speed | --speed-only]

1. Embedding quality on labelled real data (../shared/data/real): 5-nearest-neighbour accuracy of
   MT-Bench categories, source-as-topic across the real files, Chinese vs English alpaca and
   source-as-topic among Chinese files — for the lexical default and, when installed, wordllama.
2. Coverage: a pool from the real files with very unequal group sizes (group = source file);
   select N by random sampling, score-only top-N, DEITA, DEITA + --balance and k-center; groups
   covered and normalised entropy of the group distribution. The score is answer length (what a
   length-biased judge rewards), so score-only shows what a score alone does to coverage.
3. Speed and memory through the real CLI: embeddings of short texts/s (lexical vs wordllama),
   `curate select` 100,000 -> 5,000 and `curate dedup --semantic` of 100,000, wall seconds and
   peak RSS of the process.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
sys.path.insert(0, str(ROOT))

from curator.embed import LexicalEmbedder  # noqa: E402
from curator.io import read_records  # noqa: E402
from curator.rejects import RejectSink  # noqa: E402


def records(name: str):
    return list(read_records(REAL / name, rejects=RejectSink(None)))


def knn_accuracy(x: np.ndarray, labels, k: int = 5) -> float:
    y = np.asarray(labels)
    s = x @ x.T
    np.fill_diagonal(s, -9)
    nn = np.argsort(-s, axis=1)[:, :k]
    hits = 0
    for i in range(len(y)):
        vals, counts = np.unique(y[nn[i]], return_counts=True)
        hits += vals[counts.argmax()] == y[i]
    return hits / len(y)


def embedders():
    out = [("lexical (default)", LexicalEmbedder())]
    try:
        from curator.embed_local import WordLlamaEmbedder

        out.append(("wordllama l2_supercat 256", WordLlamaEmbedder()))
    except Exception as e:  # not installed: say so, measure the rest
        print(f"  (wordllama not measured: {e})")
    return out


def quality() -> None:
    print("\n== 1. embedding quality: 5-NN accuracy on labelled real data (higher is better)")
    mt = [json.loads(line) for line in (REAL / "mt_bench_question.jsonl").read_text().splitlines()]
    mt_t, mt_y = [q["turns"][0] for q in mt], [q["category"] for q in mt]
    rng = np.random.default_rng(0)
    src_t, src_y = [], []
    files = sorted(p.name for p in REAL.glob("*.json*") if p.name != "mt_bench_question.jsonl")
    for f in files:
        rows = [c.prompt_text() for c in records(f)]
        take = rng.choice(len(rows), min(300, len(rows)), replace=False)
        label = f.split("_similarity")[0].replace("_dedupe_only", "")  # the toolformer files are one source
        src_t += [rows[i] for i in take]
        src_y += [label] * len(take)
    zh = [c.prompt_text() for c in records("alpaca_zh_demo.json")][:500]
    en = [c.prompt_text() for c in records("alpaca_en_demo.json")][:500]
    zs_t, zs_y = [], []
    for f in ("alpaca_zh_demo.json", "glaive_toolcall_zh_demo.json"):
        rows = [c.prompt_text() for c in records(f)][:300]
        zs_t += rows
        zs_y += [f] * len(rows)
    print(f"  {'embedder':28s} {'MT-Bench cat (8)':>17s} {'source (' + str(len(set(src_y))) + ')':>12s} "
          f"{'zh vs en':>9s} {'zh source':>10s}")
    print(f"  {'chance':28s} {1 / 8:17.3f} {1 / len(set(src_y)):12.3f} {0.5:9.3f} {0.5:10.3f}")
    for name, e in embedders():
        r = [knn_accuracy(e.embed(mt_t), mt_y), knn_accuracy(e.embed(src_t), src_y),
             knn_accuracy(e.embed(zh + en), [0] * len(zh) + [1] * len(en)), knn_accuracy(e.embed(zs_t), zs_y)]
        print(f"  {name:28s} {r[0]:17.3f} {r[1]:12.3f} {r[2]:9.3f} {r[3]:10.3f}")


# ------------------------------------------------------------------------------------ coverage
POOL_SIZES = {"gsm8k_train_alpaca.json": 4000, "gpteacher_toolformer_dedupe_only.json": 2000,
              "gpteacher_roleplay.json": 1000, "alpaca_en_demo.json": 400, "dpo_en_demo.json": 150,
              "alpaca_zh_demo.json": 100, "v1_sft_demo.jsonl": 60, "glaive_toolcall_en_demo.json": 40,
              "user_oriented_instructions.jsonl": 25, "glaive_toolcall_zh_demo.json": 15,
              "fastchat_dummy_conversation.json": 10, "identity.json": 6}


def entropy(counts: Counter, groups: int) -> float:
    p = np.asarray([c for c in counts.values() if c], dtype=float)
    p /= p.sum()
    return float(-(p * np.log(p)).sum() / math.log(groups))


def coverage(budget: int) -> None:
    from curator.select import SelectConfig, plan

    rng = np.random.default_rng(0)
    texts, groups, scores = [], [], []
    for f, n in POOL_SIZES.items():
        recs = records(f)
        for i in rng.choice(len(recs), min(n, len(recs)), replace=False):
            texts.append(recs[i].prompt_text())
            scores.append(float(len(recs[i].answer_text())))
            groups.append(f.split(".")[0])
    g = len(set(groups))
    sizes = Counter(groups)
    print(f"\n== 2. coverage: pool of {len(texts)} records in {g} groups "
          f"(largest {max(sizes.values())}, smallest {min(sizes.values())}), select {budget}")
    x = LexicalEmbedder().embed(texts)
    s = np.asarray(scores)
    runs = {}
    for seed in range(5):  # random sampling: mean of 5 draws
        pick = np.random.default_rng(seed).choice(len(texts), budget, replace=False)
        runs.setdefault("random sample (mean of 5)", []).append(Counter(groups[i] for i in pick))
    runs["score-only top-N"] = [Counter(groups[i] for i in plan(x, s, SelectConfig(budget=budget, method="score")).order)]
    runs["deita (score + distance)"] = [Counter(groups[i] for i in plan(x, s, SelectConfig(budget=budget)).order)]
    runs["deita + --balance meta.source"] = [Counter(groups[i] for i in plan(
        x, s, SelectConfig(budget=budget, balance="meta.source"), groups=groups).order)]
    runs["kcenter"] = [Counter(groups[i] for i in plan(x, s, SelectConfig(budget=budget, method="kcenter")).order)]
    print(f"  {'method':32s} {'groups covered':>15s} {'entropy':>8s} {'smallest-6 groups share':>24s}")
    small = sorted(sizes, key=sizes.get)[:6]
    for name, cs in runs.items():
        cov = np.mean([sum(1 for k in c if c[k]) for c in cs])
        ent = np.mean([entropy(c, g) for c in cs])
        share = np.mean([sum(c[k] for k in small) / budget for c in cs])
        print(f"  {name:32s} {cov:11.1f} / {g} {ent:8.3f} {share:24.1%}")


# --------------------------------------------------------------------------------- speed + RSS
def short_texts(n: int) -> list[str]:
    base = []
    for f in ("alpaca_en_demo.json", "alpaca_zh_demo.json", "gsm8k_train_alpaca.json", "gpteacher_roleplay.json"):
        base += [c.prompt_text()[:100] for c in records(f)]
    return [f"{base[i % len(base)]} #{i}" for i in range(n)]


def embed_speed(n: int) -> None:
    texts = short_texts(n)
    print(f"\n== 3a. embedding speed: {n} short texts (mean {np.mean([len(t) for t in texts]):.0f} characters)")
    for name, e in embedders():
        e.embed(texts[:1000])  # warm-up (lexical: projection table; wordllama: load)
        t = time.perf_counter()
        e.embed(texts)
        dt = time.perf_counter() - t
        print(f"  {name:28s} {n / dt:10,.0f} texts/s  ({dt:.2f} s)")


def cli(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB of the child, last stderr line) of one `curate` run."""

    t = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([sys.executable, "-m", "curator", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=err, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        # the child's own peak RSS: VmHWM of its address space, polled until it exits (ru_maxrss
        # from wait4 would include this parent's RSS at fork time, which Linux carries over exec)
        hwm = 0
        while p.poll() is None:
            try:
                for line in open(f"/proc/{p.pid}/status"):
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.1)
        dt = time.perf_counter() - t
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if p.returncode != 0:
        raise SystemExit(f"curate {' '.join(args)} failed:\n{stderr[-2000:]}")
    lines = [x for x in stderr.splitlines() if x.strip()]
    return dt, hwm / 1024, lines[-1] if lines else ""


def speed(n: int, budget: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        pool = Path(d) / "pool.jsonl"
        texts = short_texts(n)
        rng = np.random.default_rng(0)
        with pool.open("w", encoding="utf-8") as fh:
            for i, t in enumerate(texts):
                fh.write(json.dumps({"id": f"r{i}", "messages": [{"role": "user", "content": t},
                                                                  {"role": "assistant", "content": "ok " * 5}],
                                     "meta": {"scores": {"q": round(float(rng.random()), 3)}}},
                                    ensure_ascii=False) + "\n")
        print(f"\n== 3b. through the CLI on {n:,} records (wall seconds incl. reading, writing; peak RSS)")
        dt, rss, line = cli(["select", str(pool), "-o", f"{d}/sel.jsonl", "--budget", str(budget), "--score", "q"])
        m = json.loads(Path(f"{d}/sel.manifest.json").read_text())["select"]["seconds"]
        print(f"  select {n:,} -> {budget:,} (deita):   {dt:6.1f} s   peak RSS {rss:6.0f} MiB   "
              f"(read {m['read']}s, embed {m['embed']}s, plan {m['plan']}s)")
        dt, rss, line = cli(["dedup", str(pool), "-o", f"{d}/dd.jsonl", "--semantic", "0.9", "--on", "prompt"])
        sem = json.loads(Path(f"{d}/dd.manifest.json").read_text())["dedup"]["semantic"]
        print(f"  dedup --semantic 0.9 of {n:,}:     {dt:6.1f} s   peak RSS {rss:6.0f} MiB   "
              f"({sem['method']}, {sem['clusters']} clusters, {sem['dropped']} dropped, embed "
              f"{sem['seconds']['embed']}s, plan {sem['seconds']['plan']}s)")
        dt, rss, line = cli(["dedup", str(pool), "-o", f"{d}/mh.jsonl"])
        print(f"  dedup (MinHash default) of {n:,}: {dt:6.1f} s   peak RSS {rss:6.0f} MiB   (for comparison)")


def recall(n: int) -> None:
    """Partitioned semantic dedup vs the exact comparison, on the same records."""
    from curator.semantic_dedup import semantic_plan

    x = LexicalEmbedder().embed(short_texts(n))
    prio = np.zeros(n)
    t = time.perf_counter()
    exact = semantic_plan(x, prio, 0.9, exact_max=n)
    te = time.perf_counter() - t
    t = time.perf_counter()
    part = semantic_plan(x, prio, 0.9, exact_max=0)
    tp = time.perf_counter() - t
    print(f"\n== 3c. semantic dedup, partitioned vs exact on {n:,} records (threshold 0.9)")
    print(f"  exact: {exact.dropped} dropped in {te:.1f} s; partitioned ({part.clusters} clusters): {part.dropped} "
          f"dropped in {tp:.1f} s; recall {part.dropped / max(exact.dropped, 1):.1%}")


def ray_speed(n: int) -> None:
    """--engine ray's embedding (curator.embed_ray) on a local Ray instance, beside the local one."""
    from curator.embed import LexicalEmbedder
    from curator.embed_ray import RayLexicalEmbedder
    from curator.engine.ray_run import connect

    texts = short_texts(n)
    ray = connect(None)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    print(f"\n== 3d. --engine ray embedding: {n} short texts, local Ray instance with {cpus} CPUs")
    local, remote = LexicalEmbedder(), RayLexicalEmbedder()
    local.embed(texts[:1000])
    remote.embed(texts[:3000])  # warm the workers (imports, projection table)
    t = time.perf_counter()
    a = local.embed(texts)
    tl = time.perf_counter() - t
    t = time.perf_counter()
    b = remote.embed(texts)
    tr = time.perf_counter() - t
    print(f"  local {n / tl:10,.0f} texts/s ({tl:.2f} s); ray {n / tr:10,.0f} texts/s ({tr:.2f} s, {remote.tasks} "
          f"tasks); identical vectors: {np.array_equal(a, b)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--budget", type=int, default=5_000)
    ap.add_argument("--coverage-budget", type=int, default=300)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--ray", action="store_true", help="also time --engine ray's embedding (needs the [ray] extra)")
    a = ap.parse_args()
    if not REAL.is_dir():
        raise SystemExit(f"{REAL}: the real data is needed")
    print(f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
          f"load average {open('/proc/loadavg').read().split()[0]}")
    if not a.speed_only:
        quality()
        coverage(a.coverage_budget)
    if not a.skip_speed:
        embed_speed(a.n)
        speed(a.n, a.budget)
        recall(10_000)
    if a.ray:
        ray_speed(a.n)


if __name__ == "__main__":
    main()
