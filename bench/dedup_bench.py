"""Near-duplicate bench: ours (curator.dedup) vs datasketch's MinHashLSH, same corpus, same run.

Corpus: alpaca_en_demo, alpaca_zh_demo, gsm8k_train_alpaca and gpteacher_roleplay from
../shared/data/real, plus injected near-duplicates of a random 20% of them (typos, whitespace,
punctuation, full-width forms, prefixes/suffixes, truncation), so the true clusters are known.
Prints records/s, peak RSS and pairwise precision / recall / F1 for both.

    PYTHONPATH=. python bench/dedup_bench.py                 # quality + speed, both libraries
    PYTHONPATH=. python bench/dedup_bench.py --scale 1000000 # + throughput-only run on 1M records
    PYTHONPATH=. python bench/dedup_bench.py --sweep         # F1 per threshold (how the default was chosen)
    PYTHONPATH=. python bench/dedup_bench.py --toolformer    # kept counts vs the authors' 0.8 / 0.6 files

datasketch gets the same input as ours (character 5-grams of the normalised prompt and answer,
bigrams where the text is mostly Chinese), so the comparison is of the engines, not of the
tokenisation. `--toolformer` also prints what exact Jaccard keeps (bench/exact_jaccard.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curator.dedup import DedupConfig, plan, sketch_records  # noqa: E402
from curator.minhash import MinHashParams, is_cjk  # noqa: E402
from curator.record import Conversation, Message  # noqa: E402
from curator.textnorm import normalize  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"
SOURCES = ["alpaca_en_demo.json", "alpaca_zh_demo.json", "gsm8k_train_alpaca.json", "gpteacher_roleplay.json"]
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,.!?:;()"}


def load_base() -> list[tuple[str, str]]:
    seen, out = set(), []
    for name in SOURCES:
        for r in json.loads((REAL / name).read_text(encoding="utf-8")):
            prompt = (r.get("instruction", "") + ("\n" + r["input"] if r.get("input") else "")).strip()
            answer = (r.get("output") or "").strip()
            key = (normalize(prompt), normalize(answer))
            if prompt and answer and key not in seen:  # the base itself: exact-deduplicated
                seen.add(key)
                out.append((prompt, answer))
    return out


def typo(s: str, rng: random.Random, n: int = 2) -> str:
    s = list(s)
    for _ in range(n):
        if len(s) < 4:
            break
        i = rng.randrange(len(s) - 1)
        op = rng.randrange(3)
        if op == 0:
            s[i], s[i + 1] = s[i + 1], s[i]
        elif op == 1:
            del s[i]
        else:
            s[i] = rng.choice("abcdefghijklmnopqrstuvwxyz的是了")
    return "".join(s)


def perturb(p: str, a: str, rng: random.Random) -> tuple[str, str]:
    kinds = rng.sample(["typo", "space", "punct", "fullwidth", "affix", "truncate"], k=2)
    for k in kinds:
        if k == "typo":
            p, a = (typo(p, rng), a) if rng.random() < 0.5 else (p, typo(a, rng))
        elif k == "space":
            p, a = p.replace(" ", "  ").replace("\n", "\n\n "), " " + a.replace(". ", ".\n")
        elif k == "punct":
            p = p.rstrip(".?!。？！") + rng.choice(["?", "!", "。", "？", ""])
            a = a.replace(",", "，") if rng.random() < 0.5 else a.replace(",", "")
        elif k == "fullwidth":
            p = "".join(FULLWIDTH.get(c, c) for c in p)
        elif k == "affix":
            p = rng.choice(["Please answer: ", "Question: ", "请回答：", ""]) + p
            a = a + rng.choice([" Hope this helps.", "", " 希望对你有帮助。"])
        elif k == "truncate" and len(a) > 200:
            a = a[: int(len(a) * rng.uniform(0.93, 0.98))]
    return p, a


def build_corpus(seed: int = 0, share: float = 0.2) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Records and their true cluster label (variants share their original's label)."""
    rng = random.Random(seed)
    base = load_base()
    recs, labels = [], []
    for i, (p, a) in enumerate(base):
        recs.append((p, a))
        labels.append(i)
        if rng.random() < share:
            for _ in range(rng.randint(1, 3)):
                recs.append(perturb(p, a, rng))
                labels.append(i)
    order = list(range(len(recs)))
    rng.shuffle(order)
    return [recs[i] for i in order], np.asarray([labels[i] for i in order])


def pair_count(labels: np.ndarray) -> int:
    c = np.bincount(np.unique(labels, return_inverse=True)[1])
    return int((c * (c - 1) // 2).sum())


def pairwise_prf(pred: np.ndarray, true: np.ndarray) -> tuple[float, float, float]:
    both = pair_count(np.unique(np.stack([pred, true], 1), axis=0, return_inverse=True)[1].ravel())
    p_pairs, t_pairs = pair_count(pred), pair_count(true)
    prec = both / p_pairs if p_pairs else 1.0
    rec = both / t_pairs if t_pairs else 1.0
    return prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def conversations(recs):
    for i, (p, a) in enumerate(recs):
        yield Conversation([Message("user", p), Message("assistant", a)], id=str(i))


def labels_from_plan(pl, n: int) -> np.ndarray:
    return pl.kept_of.copy()  # every record points at its cluster's kept record


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the pool): a figure the other jobs on a
    shared machine do not inflate, unlike wall time."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_ours(recs, threshold: float, workers: int, num_perm: int = 64, ngram: int = 5):
    cfg = DedupConfig(on="conversation", threshold=threshold, minhash=MinHashParams(num_perm, ngram))
    t0, c0 = time.perf_counter(), cpu_seconds()
    sk = sketch_records(conversations(recs), cfg, workers=workers)
    pl = plan(sk, cfg)
    run_ours.cpu = cpu_seconds() - c0
    return pl, time.perf_counter() - t0


def run_datasketch(recs, threshold: float, num_perm: int = 64, ngram: int = 5):
    from datasketch import MinHash, MinHashLSH

    t0, c0 = time.perf_counter(), cpu_seconds()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    parent = list(range(len(recs)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    params = MinHashParams(num_perm, ngram)
    for i, (p, a) in enumerate(recs):
        m = MinHash(num_perm=num_perm)
        for side, t in ((0, normalize(p)), (1, normalize(a))):  # each side with our shingle size for its script
            n = params.size_for(is_cjk(t))
            m.update_batch([f"{side}{t[j:j + n]}".encode("utf-8") for j in range(max(1, len(t) - n + 1)) if t])
        for j in lsh.query(m):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
        lsh.insert(i, m)
    run_datasketch.cpu = cpu_seconds() - c0
    return np.asarray([find(i) for i in range(len(recs))]), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scale", type=int, default=0, help="also time a throughput-only run on this many records")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--toolformer", action="store_true")
    ap.add_argument("--no-datasketch", action="store_true")
    args = ap.parse_args()

    recs, true = build_corpus()
    avg = sum(len(p) + len(a) for p, a in recs) / len(recs)
    print(f"corpus: {len(recs)} records ({len(set(true.tolist()))} true clusters, {pair_count(true)} true pairs), "
          f"avg {avg:.0f} chars")
    if args.sweep:
        for t in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
            pl, _ = run_ours(recs, t, args.workers)
            print(f"  threshold {t:.2f}: P/R/F1 = {'/'.join(f'{x:.4f}' for x in pairwise_prf(pl.kept_of, true))}")
    pl, secs = run_ours(recs, args.threshold, args.workers)
    p, r, f = pairwise_prf(pl.kept_of, true)
    print(f"ours       (t={args.threshold}, {args.workers} workers): {len(recs) / secs:,.0f} records/s, "
          f"({len(recs) / run_ours.cpu:,.0f} per CPU-second), "
          f"P={p:.4f} R={r:.4f} F1={f:.4f}, peak RSS {peak_rss_mb():.0f} MB (workers {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB)")
    if not args.no_datasketch:
        lab, secs = run_datasketch(recs, args.threshold)
        p, r, f = pairwise_prf(lab, true)
        print(f"datasketch (t={args.threshold}, 1 process): {len(recs) / secs:,.0f} records/s "
              f"({len(recs) / run_datasketch.cpu:,.0f} per CPU-second), "
              f"P={p:.4f} R={r:.4f} F1={f:.4f}, peak RSS {peak_rss_mb():.0f} MB (cumulative)")
    if args.toolformer:
        toolformer()
    if args.scale:
        scale_run(recs, args.scale, args.threshold, args.workers)


def toolformer() -> None:
    """Kept counts on GPTeacher toolformer: ours per threshold, beside what exact Jaccard keeps (every
    pair >= t united, one record per component: the reference a perfect MinHash would reach) and
    beside the authors' own cleanings at 0.8 and 0.6."""
    from bench.exact_jaccard import kept_by_exact_jaccard

    rows = json.loads((REAL / "gpteacher_toolformer_dedupe_only.json").read_text(encoding="utf-8"))
    recs = [((r["instruction"] + ("\n" + r["input"] if r.get("input") else "")).strip(), r["output"].strip()) for r in rows]
    ref = {"0.8": len(json.loads((REAL / "gpteacher_toolformer_similarity_0.8.json").read_text())),
           "0.6": len(json.loads((REAL / "gpteacher_toolformer_similarity_0.6.json").read_text()))}
    print(f"toolformer: {len(recs)} records in; the authors' cleanings keep {ref['0.8']} (0.8) and {ref['0.6']} (0.6)")
    for on in ("prompt", "conversation"):
        texts = [normalize(p) + ("" if on == "prompt" else normalize(a)) for p, a in recs]
        ours, exact = [], []
        for t in (0.6, 0.7, 0.8, 0.9):
            cfg = DedupConfig(on=on, threshold=t)
            pl = plan(sketch_records(conversations(recs), cfg, workers=1), cfg)
            ours.append(f"{t}:{int((pl.status == 0).sum())}")
            if t >= 0.8:  # below, prefix filtering degenerates on these templated prompts (near all pairs)
                exact.append(f"{t}:{kept_by_exact_jaccard(texts, t)}")
        print(f"  --on {on:12s} ours  kept per threshold  " + "  ".join(ours))
        print(f"  --on {on:12s} exact kept per threshold  " + "  ".join(exact))


def scale_run(recs, n: int, threshold: float, workers: int) -> None:
    rng = random.Random(1)

    def gen():
        for i in range(n):
            p, a = recs[i % len(recs)]
            if i >= len(recs):  # later copies: a small edit so they are near-, not exact, duplicates
                p = p + f" #{rng.randrange(1000)}"
            yield Conversation([Message("user", p), Message("assistant", a)], id=str(i))

    cfg = DedupConfig(on="conversation", threshold=threshold)
    t0, c0 = time.perf_counter(), cpu_seconds()
    sk = sketch_records(gen(), cfg, workers=workers)
    t1 = time.perf_counter()
    pl = plan(sk, cfg)
    t2 = time.perf_counter()
    c = Counter(pl.status.tolist())
    print(f"scale: {n:,} records in {t2 - t0:.1f}s ({n / (t2 - t0):,.0f} records/s; sketch {t1 - t0:.1f}s, "
          f"plan {t2 - t1:.1f}s; {cpu_seconds() - c0:.0f} CPU-s = {n / (cpu_seconds() - c0):,.0f} per CPU-second), kept {c[0]:,}, peak RSS {peak_rss_mb():.0f} MB "
          f"(workers {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB)")


if __name__ == "__main__":
    main()
