"""`train eval RUN --data eval.jsonl [--train-sample N] [--base-url URL --model NAME] [--compare OLD.json]`:
did training make the model better, and does it generalise?

The trained model (adapter or merged, local transformers, batched — the same code as `train
generate`) or a server serving it (`--base-url`, through the project's generation layer)
answers the eval set and a seeded sample of the run's own training data; `curate eval`'s
metrics run on both; the gap between them gets a plain-language verdict. Everything lands in
``OUT`` (default ``RUN/eval``): ``eval_predictions.jsonl``, ``train_predictions.jsonl``,
``train_eval.json``, and ``badcases.jsonl`` (the eval set's wrong answers, a review queue and
the input of `curate augment`).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import orjson

from curator.errors import UsageError
from curator.record import Conversation, Message

# A primary metric this much higher on training data than on eval data is a gap worth a word.
GAP_WARN = 0.10


def _training_files(run: Path) -> list[str]:
    import yaml

    cfg = run / "train_config.yaml"
    if not cfg.is_file():
        raise UsageError(f"{run}: no train_config.yaml — pass the OUT folder of a `train` run (or --train-data)")
    data = (yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}).get("data") or []
    return [str(d) for d in (data if isinstance(data, list) else [data])]


def train_sample(files: list[str], n: int, seed: int) -> list[Conversation]:
    """`n` training records with answers, drawn with a seeded RNG (the same sample every time)."""
    from curator.io import read_records
    from curator.rejects import RejectSink

    pool: list[Conversation] = []
    for f in files:
        if not Path(f).exists():
            raise UsageError(f"{f}: the run's training file is gone; pass --train-data FILE or --train-sample 0")
        pool += [c for c in read_records(f, rejects=RejectSink(None)) if c.last("assistant") is not None]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def _with_reference(conv: Conversation, content: str, reasoning: str | None, model: str, finish: str | None,
                    params: dict[str, Any]) -> Conversation:
    out = conv.copy()
    ref = conv.last("assistant")
    if ref is not None and (ref.content or ref.reasoning):
        out.meta["reference"] = ref.to_dict()
    out.messages = conv.prompt_messages() + [Message("assistant", content, reasoning=reasoning)]
    out.meta["generation"] = {"model": model, **params, "finish_reason": finish}
    out.add_lineage("train-eval")
    return out


def generate_server(convs: list[Conversation], path: Path, *, base_url: str, model: str, api_key_env: str,
                    max_new_tokens: int, temperature: float, seed: int, concurrency: int = 16) -> dict[str, Any]:
    """Answers from an OpenAI-compatible server (vLLM, SGLang, ...) serving the trained model."""
    from curator.backends import GenerationRequest, SamplingParams, make_backend
    from curator.generation import Generator, GenerationFailed, split_answer
    from curator.io import RecordWriter

    generator = Generator(make_backend("openai", model=model, base_url=base_url, api_key_env=api_key_env,
                                 concurrency=concurrency), concurrency=concurrency)
    params = SamplingParams(temperature=temperature, max_tokens=max_new_tokens, seed=seed)
    tokens = 0
    failed = 0

    async def one(conv: Conversation):
        msgs = [m.to_dict(reasoning=False, weight=False) for m in conv.prompt_messages()]
        try:
            return await generator.call(GenerationRequest(msgs, params, tag=conv.id))
        except GenerationFailed as e:
            return e

    async def all_of():
        out = []
        try:
            async for r in generator.map_ordered(convs, one):
                out.append(r)
        finally:
            await generator.backend.aclose()
        return out

    t0 = time.perf_counter()
    results = asyncio.run(all_of())
    seconds = time.perf_counter() - t0
    with RecordWriter(path, "messages") as w:
        for conv, res in zip(convs, results):
            if isinstance(res, Exception) or not res.choices:
                failed += 1  # an empty answer is scored as wrong, and said so
                w.write(_with_reference(conv, "", None, model, "error", {"error": str(res)[:200]}))
                continue
            a = split_answer(res.choices[0])
            tokens += res.usage.completion_tokens if res.usage else 0
            w.write(_with_reference(conv, a.content, a.reasoning, model, a.finish_reason,
                                    {"max_new_tokens": max_new_tokens, "temperature": temperature, "seed": seed}))
    return {"records": len(convs), "seconds": round(seconds, 3), "completion_tokens": tokens,
            "tokens_per_s": round(tokens / seconds, 1) if seconds else None, "failed": failed}


def generate_local(model: Any, tokenizer: Any, convs: list[Conversation], path: Path, *, max_new_tokens: int,
                   temperature: float, batch_size: int, seed: int, name: str) -> dict[str, Any]:
    """Answers from the trained model in this process (`trainer.generate.answer`, batched)."""
    from curator.io import RecordWriter
    from trainer.generate import answer

    class _Sink:  # `answer` writes through a run-like object; count generated tokens on the way
        tokens = 0

        def __init__(self, w):
            self.w = w

        def write(self, conv: Conversation) -> bool:
            m = conv.last("assistant")
            text = (m.reasoning or "") + (m.content if m else "")
            _Sink.tokens += len(tokenizer(text, add_special_tokens=False)["input_ids"])
            return self.w.write(conv)

    t0 = time.perf_counter()
    with RecordWriter(path, "messages") as w:
        answer(_Sink(w), model, tokenizer, iter(convs), max_new_tokens=max_new_tokens, temperature=temperature,
               batch_size=batch_size, seed=seed, model_name=name)
    seconds = time.perf_counter() - t0
    return {"records": len(convs), "seconds": round(seconds, 3), "completion_tokens": _Sink.tokens,
            "tokens_per_s": round(_Sink.tokens / seconds, 1) if seconds else None, "batch_size": batch_size,
            "device": str(getattr(model, "device", "cpu"))}


def verdict(eval_res: dict[str, Any], train_res: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Per-task gap (train - eval, primary metric) and sentences a person can act on."""
    if not train_res:
        return {}, ["no training sample was scored (--train-sample 0): no overfitting check"]
    gaps, lines = {}, []
    for task, e in eval_res["tasks"].items():
        t = train_res["tasks"].get(task)
        if not t:
            continue
        m = e["primary"]
        ev, tv = e["metrics"][m], t["metrics"][m]
        gap = tv["value"] - ev["value"]
        clear = "ci" in ev and "ci" in tv and tv["ci"][0] > ev["ci"][1]
        gaps[task] = {"metric": m, "train": tv["value"], "eval": ev["value"], "gap": gap, "beyond_intervals": clear}
        scale = 100 if m == "bleu" else 1
        if gap / scale > GAP_WARN and (clear or "ci" not in ev):
            lines.append(f"{task}: overfitting — {m} is {tv['value']:.3g} on training data but {ev['value']:.3g} on "
                         f"the eval set. The model memorised its training answers more than it learned the task: use "
                         f"more varied data, fewer epochs or a lower learning rate, and stop at the best eval step.")
        elif max(tv["value"], ev["value"]) / scale < 0.5:
            lines.append(f"{task}: underfitting — {m} is low on both training ({tv['value']:.3g}) and eval data "
                         f"({ev['value']:.3g}). Train longer, raise the learning rate or check the data and template.")
        else:
            lines.append(f"{task}: no sign of overfitting — {m} {tv['value']:.3g} on training data vs "
                         f"{ev['value']:.3g} on the eval set (gap {gap:+.3g}).")
    return gaps, lines


def score(pred: Path, out_rejects: Path, cfg: Any) -> tuple[dict[str, Any], list]:
    from curator.evaluate.run import evaluate, load_examples
    from curator.io import ReadStats
    from curator.rejects import RejectSink

    sink = RejectSink(out_rejects, stage="train-eval")
    try:
        examples = load_examples([pred], sink, ReadStats())
        res, wrong = evaluate(examples, cfg)
    finally:
        sink.close()
    res["rejected"] = len(sink)
    return res, wrong


def train_eval(run: str | Path, data: str | Path, *, out: str | Path | None = None, train_samples: int = 100,
               train_data: list[str] | None = None, base_url: str | None = None, model: str | None = None,
               api_key_env: str = "OPENAI_API_KEY", base: str | None = None, max_new_tokens: int = 128,
               temperature: float = 0.0, batch_size: int = 8, seed: int = 0, task: str = "auto",
               bootstrap: int = 1000, compare: str | Path | None = None) -> dict[str, Any]:
    """Run the whole command; returns the train_eval.json dict."""
    from curator.atomic import atomic_open
    from curator.evaluate.run import EvalConfig, badcase_row
    from curator.io import RecordWriter, read_records
    from curator.rejects import RejectSink

    run = Path(run)
    if base_url is None and not run.is_dir():
        raise UsageError(f"{run}: no such folder (a train OUT folder, or pass --base-url for a server)")
    if not Path(data).exists():
        raise UsageError(f"--data {data}: no such file")
    cfg = EvalConfig(task=task, bootstrap=bootstrap, seed=seed)
    out = Path(out) if out else run / "eval"
    out.mkdir(parents=True, exist_ok=True)
    sink = RejectSink(out / "eval_data.rejects.jsonl", stage="train-eval")
    eval_convs = [c for c in read_records(data, rejects=sink) if c.last("assistant") is not None]
    sink.close()
    if not eval_convs:
        raise UsageError(f"--data {data}: no records with a reference answer to evaluate against")
    train_convs = train_sample(train_data or _training_files(run), train_samples, seed) if train_samples > 0 else []
    gen_args = dict(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
    sets = [("eval", eval_convs)] + ([("train", train_convs)] if train_convs else [])
    throughput = {}
    if base_url:
        if not model:
            raise UsageError("--base-url needs --model (the name the server serves the trained model under)")
        for name, convs in sets:
            throughput[name] = generate_server(convs, out / f"{name}_predictions.jsonl", base_url=base_url, model=model,
                                               api_key_env=api_key_env, **gen_args)
    else:
        import transformers

        from trainer.merge import load_trained

        transformers.logging.set_verbosity_error()
        lm, tok = load_trained(run, base)
        for name, convs in sets:
            throughput[name] = generate_local(lm, tok, convs, out / f"{name}_predictions.jsonl", batch_size=batch_size,
                                              name=str(run), **gen_args)
    results = {}
    wrong_eval: list = []
    for name, _ in sets:
        res, wrong = score(out / f"{name}_predictions.jsonl", out / f"{name}_predictions.rejects.jsonl", cfg)
        results[name] = res
        if name == "eval":
            wrong_eval = wrong
    with RecordWriter(out / "badcases.jsonl", "messages") as w:
        for ex, t, detail in wrong_eval:
            w.write_row(badcase_row(ex, t, detail))
    gaps, lines = verdict(results["eval"], results.get("train"))
    report: dict[str, Any] = {"run": str(run), "data": str(data), "generation": throughput, "eval": results["eval"],
                              "train_sample": results.get("train"), "gap": gaps, "verdict": lines,
                              "badcases": {"path": str(out / "badcases.jsonl"), "count": len(wrong_eval)}}
    if compare:
        from curator.evaluate.compare import compare as do_compare

        p = Path(compare)
        if not p.is_file():
            raise UsageError(f"--compare {p}: no such file")
        other = orjson.loads(p.read_bytes())
        other = other.get("eval", other)  # a train_eval.json or a curate eval.json
        report["compare"] = {"other": str(p), "tasks": do_compare(results["eval"], other)}
    with atomic_open(out / "train_eval.json", "wb") as fh:
        fh.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    report["out"] = str(out)
    return report


def summary_lines(r: dict[str, Any]) -> list[str]:
    lines = []
    for name, g in r["generation"].items():
        lines.append(f"generated {g['records']} {name} answers in {g['seconds']:.1f}s "
                     f"({g['tokens_per_s']} tokens/s)")
    for task, t in r["eval"]["tasks"].items():
        m = t["metrics"][t["primary"]]
        ci = f" [{m['ci'][0]:.3f}, {m['ci'][1]:.3f}]" if "ci" in m else ""
        tr = (r.get("train_sample") or {}).get("tasks", {}).get(task)
        trs = f"; on the training sample {tr['metrics'][t['primary']]['value']:.3f}" if tr else ""
        lines.append(f"{task}: {t['primary']} {m['value']:.3f}{ci} on {t['n']} eval records{trs}")
    lines += r["verdict"]
    for task, ms in (r.get("compare") or {}).get("tasks", {}).items():
        for m, c in ms.items():
            ci = f" [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}]" if "ci" in c else ""
            lines.append(f"vs {r['compare']['other']}: {task} {m} {c['other']:.3f} -> {c['this']:.3f} "
                         f"({c['delta']:+.3f}{ci}) {c.get('verdict', '')}")
    lines.append(f"{r['badcases']['count']} eval badcases: {r['badcases']['path']} "
                 f"(curate review it; curate augment it -o prompts.jsonl)")
    lines.append(f"wrote {r['out']}/train_eval.json")
    return lines
