"""Filter throughput: records/s of `curate filter`'s filter chain on real SFT data, and peak RSS.

Corpus: every Alpaca/ShareGPT file in ../shared/data/real that reads cleanly (alpaca en/zh,
GPTeacher role-play and toolformer, GSM8K, glaive tool calls), repeated to --records. Records are
read once, then the filter chain is timed alone (the stage's own cost), for the default chain, the
default chain + language (en, zh), and the example filter-chain file sample_data/filters.yaml.
Goal: >= 20,000 records/s for the default chain.

    PYTHONPATH=. python bench/filter_bench.py [--records 100000]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from curator.filters import DEFAULT_CHAIN, load_chain, build_chain
from curator.io import read_records
from curator.rejects import RejectSink

FILES = ["alpaca_en_demo.json", "alpaca_zh_demo.json", "gpteacher_roleplay.json", "gpteacher_toolformer_dedupe_only.json",
         "gsm8k_train_alpaca.json", "glaive_toolcall_en_demo.json", "glaive_toolcall_zh_demo.json"]
ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    a = ap.parse_args()
    base = []
    sink = RejectSink(None)
    for name in FILES:
        base.extend(read_records(a.real / name, rejects=sink))
    convs = [base[i % len(base)] for i in range(a.records)]
    print(f"{len(base)} distinct records from {len(FILES)} real files ({len(sink)} unreadable rows skipped), "
          f"repeated to {len(convs)}; RSS after load {rss_mb():.0f} MB")
    chains = {
        "default": [(n, dict(p)) for n, p in DEFAULT_CHAIN],
        "default + language [en, zh]": [(n, dict(p)) for n, p in DEFAULT_CHAIN] + [("language", {"allowed": ["en", "zh"]})],
        "sample_data/filters.yaml (+ pii mask, language)": load_chain(ROOT / "sample_data" / "filters.yaml"),
    }
    print(f"{'filter chain':50s} {'records/s':>10s} {'kept':>8s} {'dropped':>8s} {'peak RSS MB':>12s}")
    for name, items in chains.items():
        chain = build_chain(items)
        chain.filter_batch(convs[:10])  # load the language model outside the timing
        kept = dropped = 0
        t0 = time.perf_counter()
        for i in range(0, len(convs), a.batch):
            k, d = chain.filter_batch(convs[i:i + a.batch])
            kept += len(k)
            dropped += len(d)
        secs = time.perf_counter() - t0
        print(f"{name:50s} {len(convs) / secs:10,.0f} {kept:8,d} {dropped:8,d} {rss_mb():12.0f}")


if __name__ == "__main__":
    main()
