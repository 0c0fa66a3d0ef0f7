"""Training end to end on the tiny model: the real TRL + PEFT stack, a few steps each."""

from __future__ import annotations

import json
import random

import pytest

pytest.importorskip("trl")

from tests.conftest import SAMPLE, run_cli  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from trainer.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def chat(q, a, **extra):
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a, **extra}]}


@pytest.fixture(scope="module")
def lora_run(tiny, tmp_path_factory):
    """One CLI LoRA run shared by the artefact, merge and generate tests."""
    d = tmp_path_factory.mktemp("run")
    data = write_jsonl(d / "data.jsonl", [chat(f"say {i}", "the same short answer every time") for i in range(8)]
                       + [{"messages": [{"role": "user", "content": "no answer"}]}])  # a reject
    out = d / "out"
    r = run_cli(str(data), "--model", str(tiny), "-o", str(out), "--eval", str(SAMPLE / "messages.jsonl"),
                "max_steps=12", "eval_steps=6", "logging_steps=1", "batch_size=4", "grad_accum=1",
                "learning_rate=1e-2", module="trainer")
    assert r.returncode == 0, r.stderr
    return out, r


@pytest.mark.slow
def test_lora_run_lowers_loss_and_writes_every_artefact(lora_run):
    out, r = lora_run
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "train_config.yaml",
                 "metrics.jsonl", "loss.png", "rejects.jsonl", "train.manifest.json"):
        assert (out / name).exists(), name
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [x["loss"] for x in rows if "loss" in x]
    assert losses[-1] < losses[0] - 0.3  # a random tiny model: LoRA moves it slowly, but clearly
    assert any("eval_loss" in x for x in rows)
    manifest = json.loads((out / "train.manifest.json").read_text())
    c = manifest["counts"]
    assert (c["in"], c["train"], c["eval"], c["rejected"], c["balanced"]) == (14, 8, 5, 1, True)
    assert c["rejected_by_reason"] == {"no_assistant": 1}
    cfg = (out / "train_config.yaml").read_text()
    assert "max_steps: 12" in cfg and "method: lora" in cfg and "lora_dropout: 0.05" in cfg
    assert "<|im_end|>' is trained" in r.stderr and "1 rejected" in r.stderr
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_merge_output_loads_and_generates(lora_run, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.merge import load_trained

    out, _ = lora_run
    r = run_cli("merge", str(out), "-o", str(tmp_path / "merged"), module="trainer")
    assert r.returncode == 0, r.stderr
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    tok = AutoTokenizer.from_pretrained(tmp_path / "merged")
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    enc = tok.apply_chat_template([{"role": "user", "content": "say 3"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    gen = model.generate(**enc, max_new_tokens=12, do_sample=False)
    text = tok.decode(gen[0, enc["input_ids"].shape[1]:])
    assert gen.shape[1] > enc["input_ids"].shape[1] and text
    # the merged weights compute what base + adapter computes
    peft_model, _ = load_trained(out)
    with torch.no_grad():
        a, b = model(**enc).logits, peft_model(**enc).logits
    assert torch.allclose(a, b, atol=1e-4)


@pytest.mark.slow
def test_generate_writes_records_for_review(lora_run, tmp_path):
    out, _ = lora_run
    dest = tmp_path / "outputs.jsonl"
    r = run_cli("generate", str(out), "--prompts", str(SAMPLE / "prompts.jsonl"), "-o", str(dest),
                "--max-new-tokens", "8", module="trainer")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in dest.read_text().splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        assert row["meta"]["generation"]["model"] == str(out)
        assert row["meta"]["lineage"][-1] == "train-generate"
    manifest = json.loads((tmp_path / "outputs.manifest.json").read_text())
    assert manifest["counts"]["balanced"]


@pytest.mark.slow
def test_preview_shows_trained_tokens_and_reasoning(tiny):
    r = run_cli(str(SAMPLE / "reasoning_r1.jsonl"), "--model", str(tiny), "--preview", "1", module="trainer")
    assert r.returncode == 0, r.stderr
    assert "template: the model's own template" in r.stdout
    assert "⟦<think>\nEach pen costs 3 dollars." in r.stdout and "12 dollars.<|im_end|>⟧" in r.stdout
    assert "⟦" not in r.stdout.split("<|im_start|>assistant")[0].split("tokens, ")[-1].split(")")[1]
    r = run_cli(str(SAMPLE / "reasoning_r1.jsonl"), "--model", str(tiny), "--preview", "1", "--reasoning", "drop",
                module="trainer")
    assert "<think>" not in r.stdout and "⟦4 pens cost 12 dollars.<|im_end|>⟧" in r.stdout


@pytest.mark.slow
def test_usage_errors_exit_2_without_traceback(tiny, tmp_path):
    r = run_cli(str(SAMPLE / "messages.jsonl"), "--model", str(tiny), "-o", str(tmp_path / "o"), "train_on=first",
                module="trainer")
    assert r.returncode == 2 and "--train-on 'first': choose all or last" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(str(SAMPLE / "messages.jsonl"), "--model", str(tiny), "-o", str(tmp_path / "o"), "--method", "qlora",
                module="trainer")
    assert r.returncode == 2 and "qlora needs a CUDA GPU" in r.stderr


@pytest.mark.slow
def test_resume_continues_the_step_count(tiny, tmp_path):
    from trainer.config import TrainConfig
    from trainer.train import run

    data = write_jsonl(tmp_path / "d.jsonl", [chat(f"q{i}", f"answer number {i}") for i in range(6)])
    out = tmp_path / "out"
    base = dict(data=[str(data)], model=str(tiny), out=str(out), eval_ratio=0, batch_size=2, grad_accum=1,
                eval_steps=2, logging_steps=1, lora_r=4, lora_alpha=4)
    first = run(TrainConfig(max_steps=4, **base))
    assert first["global_step"] == 4
    second = run(TrainConfig(max_steps=6, resume_from=str(out), **base))
    assert second["resumed_from"].endswith("checkpoint-4") and second["global_step"] == 6
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(x)]
    assert steps == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow
def test_init_adapter_starts_from_a_trained_adapter(tiny, tmp_path):
    from trainer.config import TrainConfig
    from trainer.train import run

    data = write_jsonl(tmp_path / "d.jsonl", [chat(f"q{i}", "fixed reply") for i in range(4)])
    base = dict(data=[str(data)], model=str(tiny), eval_ratio=0, batch_size=4, grad_accum=1, logging_steps=1,
                lora_r=4, lora_alpha=4, learning_rate=1e-2)
    run(TrainConfig(out=str(tmp_path / "a"), max_steps=6, **base))
    first_a = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()][0]["loss"]
    run(TrainConfig(out=str(tmp_path / "b"), max_steps=1, init_adapter=str(tmp_path / "a"), **base))
    first_b = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()][0]["loss"]
    assert first_b < first_a  # the second run starts where the first ended, not from scratch


@pytest.mark.slow
def test_early_stopping_fires_on_an_overfitting_set(tiny, tmp_path, capfd):
    """Train answers use one vocabulary, eval answers a disjoint one: memorising train hurts eval."""
    from trainer.config import TrainConfig
    from trainer.train import run

    rng = random.Random(0)
    words = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega river stone cloud apple".split()
    tr = write_jsonl(tmp_path / "tr.jsonl", [chat(f"item {i}", " ".join(rng.choice(words[:7]) for _ in range(12)))
                                             for i in range(4)])
    ev = write_jsonl(tmp_path / "ev.jsonl", [chat(f"item {i}", " ".join(rng.choice(words[7:]) for _ in range(12)))
                                             for i in range(4)])
    s = run(TrainConfig(data=[str(tr)], eval=str(ev), model=str(tiny), out=str(tmp_path / "o"), method="full",
                        learning_rate=5e-3, max_steps=40, eval_steps=2, patience=2, batch_size=4, grad_accum=1,
                        logging_steps=1, warmup_ratio=0, save_total_limit=1))
    assert s["stopped_early"] and s["global_step"] < 40
    assert s["best_checkpoint"].endswith(f"checkpoint-{s['global_step'] - 4}")  # best kept, 2 worse evals after
    assert "overfitting: eval loss rose" in capfd.readouterr().err
    events = [json.loads(x) for x in (tmp_path / "o" / "metrics.jsonl").read_text().splitlines()]
    assert any(e.get("event") == "overfitting" for e in events)
    assert (tmp_path / "o" / "model.safetensors").exists()  # --method full saves the whole model
