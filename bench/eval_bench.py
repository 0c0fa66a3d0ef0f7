"""`curate eval` on 100,000 predictions (goal: < 10 s here), beside what a user would otherwise
run: scikit-learn's classification_report, rouge-score's ROUGE-L and sacrebleu's BLEU on the
same rows (metrics only: no intervals, no breakdowns, no badcases).

    python bench/eval_bench.py [--n 100000] [--generation]

The rows are a mix like a real eval set: 50% classification (8 labels, Chinese and English),
15% JSON extraction, 15% math, 20% Chinese generation (~60 characters).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["正面", "负面", "中性", "spam", "ham", "投诉", "咨询", "其他"]
WORDS = list("我们今天学习机器模型数据很好天气城市北京上海工作时间问题方法结果训练评估质量")


def rows(n: int, seed: int = 0):
    rng = random.Random(seed)
    for i in range(n):
        r = rng.random()
        if r < 0.5:
            ref = rng.choice(LABELS)
            yield {"prompt": f"分类 {i}", "predict": ref if rng.random() < 0.8 else rng.choice(LABELS), "label": ref,
                   "task": "classification", "meta": {"source": f"s{i % 4}"}}
        elif r < 0.65:
            ref = {"name": rng.choice(["张三", "李四", "王五"]), "age": rng.randint(18, 80), "city": rng.choice(["北京", "上海"])}
            pred = dict(ref, age=ref["age"] + (rng.random() < 0.3))
            yield {"prompt": f"抽取 {i}", "predict": orjson.dumps(pred).decode() if rng.random() < 0.95 else "抱歉",
                   "label": orjson.dumps(ref).decode(), "task": "extraction"}
        elif r < 0.8:
            a = rng.randint(1, 999)
            yield {"prompt": f"计算 {i}", "predict": f"答案是 \\boxed{{{a if rng.random() < 0.7 else a + 1}}}",
                   "label": f"#### {a}", "task": "math"}
        else:
            ref = "".join(rng.choice(WORDS) for _ in range(60))
            pred = "".join(c if rng.random() < 0.7 else rng.choice(WORDS) for c in ref[: rng.randint(30, 60)])
            yield {"prompt": f"写作 {i}", "predict": pred, "label": ref, "task": "generation"}


def _children_cpu() -> float:
    """CPU seconds used by finished child processes: on a shared machine wall time measures the
    neighbours too, CPU time measures the command."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def reference_libraries(data: list[dict]) -> dict[str, float]:
    """The same metrics through the libraries people use (each where it applies)."""
    from rouge_score import rouge_scorer
    import sacrebleu
    from sklearn.metrics import classification_report

    from curator.answer_match import answers_match
    from curator.evaluate.textsim import char_tokens

    t: dict[str, float] = {}
    clock = time.process_time  # CPU seconds, comparable with the command's CPU figure
    t0 = clock()
    cls = [r for r in data if r["task"] == "classification"]
    classification_report([r["label"] for r in cls], [r["predict"] for r in cls], output_dict=True, zero_division=0)
    t["sklearn classification_report"] = clock() - t0
    gen = [r for r in data if r["task"] == "generation"]

    class Tok:
        def tokenize(self, text):
            return char_tokens(text)

    t0 = clock()
    sc = rouge_scorer.RougeScorer(["rougeL"], tokenizer=Tok())
    for r in gen:
        sc.score(r["label"], r["predict"])
    t["rouge-score ROUGE-L"] = clock() - t0
    t0 = clock()
    sacrebleu.corpus_bleu([r["predict"] for r in gen], [[r["label"] for r in gen]], tokenize="zh")
    t["sacrebleu BLEU (zh)"] = clock() - t0
    t0 = clock()
    for r in data:
        if r["task"] == "math":
            answers_match(r["predict"], r["label"])
    t["answer_match (math)"] = clock() - t0
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--generation", action="store_true", help="also time train eval's generation on the tiny model")
    a = ap.parse_args()
    data = list(rows(a.n))
    with tempfile.TemporaryDirectory() as d:
        pred = Path(d) / "pred.jsonl"
        pred.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in data))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        for label, extra in (("curate eval (1000 bootstrap resamples, breakdowns, badcases, HTML)",
                              ["--html", str(Path(d) / "e.html"), "--badcases", str(Path(d) / "bad.jsonl")]),
                             ("curate eval --bootstrap 0", ["--bootstrap", "0"])):
            t0, c0 = time.perf_counter(), _children_cpu()
            subprocess.run([sys.executable, "-m", "curator", "eval", str(pred), "-o", str(Path(d) / "e.json"), *extra],
                           check=True, env=env, capture_output=True)
            print(f"{label:72s} {a.n:>7} rows  {time.perf_counter() - t0:6.2f} s wall, "
                  f"{_children_cpu() - c0:6.2f} s CPU (whole command, start-up included)")
    ref = reference_libraries(data)
    for k, v in ref.items():
        print(f"{k:72s} {'':>7}       {v:6.2f} s CPU")
    print(f"{'reference libraries together (metrics only)':72s} {'':>7}       {sum(ref.values()):6.2f} s CPU")
    if a.generation:
        generation_throughput()



def generation_throughput(prompts: int = 32, max_new_tokens: int = 32) -> None:
    """`train eval`'s local generation on the offline tiny model: tokens/s at batch 1 and 8."""
    import tempfile

    from curator.record import Conversation, Message
    from trainer.evaluate import generate_local
    from trainer.merge import load_trained
    from trainer.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as d:
        path = build_tiny_model(Path(d) / "tiny")
        model, tok = load_trained(path)
        convs = [Conversation([Message("user", f"判断情感：第{i}条评论，东西很好用"), Message("assistant", "正面")], id=f"p{i}")
                 for i in range(prompts)]
        for bs in (1, 8):
            g = generate_local(model, tok, convs, Path(d) / f"out{bs}.jsonl", max_new_tokens=max_new_tokens,
                               temperature=0.0, batch_size=bs, seed=0, name="tiny")
            print(f"{'train eval generation, tiny model, batch ' + str(bs):72s} {prompts:>7} prompts "
                  f"{g['seconds']:6.2f} s  {g['tokens_per_s']} tokens/s on {g['device']}")


if __name__ == "__main__":
    main()
