"""Chinese near-duplicates: which character shingle size and threshold find them (issue #19).

Corpus: alpaca_zh_demo (../shared/data/real), exact-deduplicated, plus, for a random 40% of the
records, one variant with k = 1..4 small programmatic edits spread over prompt and answer: a word
swapped for a near-synonym (可以 -> 能够), a particle dropped or added (了, 的, 其实), a character
doubled or deleted. Each edit is the kind an annotator or a paraphrasing model makes; none changes
what is asked or answered. The true clusters are known, so pairwise precision / recall / F1 of
`curate dedup --on conversation` are measured per (shingle size, threshold), and recall per k.
The English side (alpaca_en_demo with the same kind of edits) is printed beside it, to show what
a per-script shingle size leaves unchanged there.

    PYTHONPATH=. python bench/dedup_zh_bench.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dedup_bench import pairwise_prf  # noqa: E402
from curator.dedup import DedupConfig, dedup_texts  # noqa: E402
from curator.minhash import MinHashParams  # noqa: E402
from curator.textnorm import normalize  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"
SYNONYMS_ZH = [("可以", "能够"), ("因为", "由于"), ("所以", "因此"), ("但是", "可是"), ("如果", "假如"), ("非常", "十分"),
               ("我们", "咱们"), ("一些", "一点"), ("需要", "须要"), ("重要", "关键"), ("方法", "办法"), ("使用", "利用"),
               ("帮助", "帮忙"), ("问题", "难题"), ("很", "挺"), ("的", "之"), ("和", "与"), ("是", "乃是")]
SYNONYMS_EN = [("can", "could"), ("because", "since"), ("so", "thus"), ("but", "yet"), ("if", "when"), ("very", "really"),
               ("we", "you"), ("some", "a few"), ("need", "require"), ("important", "key"), ("method", "way"),
               ("use", "utilize"), ("help", "assist"), ("problem", "issue"), ("the", "this"), ("and", "plus")]
FILLERS_ZH = ["其实", "了", "的", "也", "就"]
FILLERS_EN = ["actually ", "really ", "just ", "also "]


def edit(text: str, rng: random.Random, zh: bool) -> str:
    """One small edit at a random place."""
    if not text:
        return text
    syn = SYNONYMS_ZH if zh else SYNONYMS_EN
    op = rng.randrange(4)
    if op == 0:  # near-synonym
        hits = [(a, b) for a, b in syn if a in text] + [(b, a) for a, b in syn if b in text]
        if hits:
            a, b = rng.choice(hits)
            spots = [i for i in range(len(text)) if text.startswith(a, i)]
            i = rng.choice(spots)
            return text[:i] + b + text[i + len(a):]
    i = rng.randrange(len(text))
    if op == 1:  # a filler word inserted
        if not zh:
            i = text.rfind(" ", 0, i) + 1
        return text[:i] + rng.choice(FILLERS_ZH if zh else FILLERS_EN) + text[i:]
    if op == 2:  # a character deleted
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]  # a character doubled (a typo)


def variant(p: str, a: str, k: int, rng: random.Random, zh: bool) -> tuple[str, str]:
    for _ in range(k):
        if rng.random() < 0.5:
            p = edit(p, rng, zh)
        else:
            a = edit(a, rng, zh)
    return p, a


def corpus(name: str, zh: bool, seed: int = 0, share: float = 0.4):
    rng = random.Random(seed)
    seen, base = set(), []
    for r in json.loads((REAL / name).read_text(encoding="utf-8")):
        p = "\n".join(x for x in (r.get("instruction", ""), r.get("input", "")) if x).strip()
        a = (r.get("output") or "").strip()
        key = (normalize(p), normalize(a))
        if p and a and key not in seen:
            seen.add(key)
            base.append((p, a))
    recs, labels, ks = [], [], []
    for i, (p, a) in enumerate(base):
        recs.append((p, a))
        labels.append(i)
        ks.append(0)
        if rng.random() < share:
            k = rng.randint(1, 4)
            recs.append(variant(p, a, k, rng, zh))
            labels.append(i)
            ks.append(k)
    return recs, np.asarray(labels), np.asarray(ks)


def recall_by_k(pred: np.ndarray, labels: np.ndarray, ks: np.ndarray) -> list[float]:
    """Share of variants with k edits put in the same cluster as their original."""
    orig = {int(lab): int(pred[i]) for i, lab in enumerate(labels) if ks[i] == 0}
    out = []
    for k in (1, 2, 3, 4):
        idx = np.flatnonzero(ks == k)
        out.append(float(np.mean([pred[i] == orig[int(labels[i])] for i in idx])) if len(idx) else float("nan"))
    return out


def main() -> None:
    for name, zh in (("alpaca_zh_demo.json", True), ("alpaca_en_demo.json", False)):
        recs, labels, ks = corpus(name, zh)
        avg = np.mean([len(p) + len(a) for p, a in recs])
        print(f"{name}: {len(recs)} records, {int((ks > 0).sum())} edited variants, avg {avg:.0f} chars")
        print("  ngram threshold      P      R     F1   recall k=1..4")
        # one size for every script (ngram_cjk=0), then the default: 5 for Latin text, 2 for CJK
        grid = [(MinHashParams(ngram=n, ngram_cjk=0), str(n), t) for n in (2, 3, 4, 5) for t in (0.5, 0.6, 0.7, 0.8)]
        grid += [(MinHashParams(), "5/cjk 2 (default)", t) for t in (0.6, 0.7, 0.8)]
        for params, label, t in grid:
            pl = dedup_texts(recs, DedupConfig(on="conversation", threshold=t, minhash=params))
            p, r, f = pairwise_prf(pl.kept_of, labels)
            rk = " ".join(f"{x:.2f}" for x in recall_by_k(pl.kept_of, labels, ks))
            print(f"  {label:>5} {t:9.2f} {p:6.3f} {r:6.3f} {f:6.3f}   {rk}")


if __name__ == "__main__":
    main()
