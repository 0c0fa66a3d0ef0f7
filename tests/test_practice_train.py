"""Training-config and after-training practice checks: each rule tripped and passed on crafted
facts, and `train --check` on the tiny model (real tokenizer, real template) exits without training."""

from __future__ import annotations

import dataclasses
import json

import pytest

from curator.practice import PracticeConfig
from curator.practice.config import practice_config_from
from curator.practice.coverage import near_coverage
from curator.practice.training import TrainFacts, after_training_checks, training_checks
from tests.conftest import run_cli
from tests.test_practice import plain, rec, text, write

GOOD = TrainFacts(method="lora", learning_rate=2e-4, epochs=3, max_steps=-1, batch_size=4, grad_accum=4, lora_r=64,
                  lora_alpha=64, eval_file="eval.jsonl", eval_ratio=0.05, packing=False, max_length=2048,
                  n_train=2000, task="classification", complexity="simple", complexity_why="classification task",
                  multi_turn_share=0.0, median_tokens=120, p99_tokens=600, lengths_n=2000, lengths_over=0)


def checks(facts: TrainFacts, cfg: PracticeConfig | None = None, **change) -> dict:
    return {c.id: c for c in training_checks(dataclasses.replace(facts, **change), cfg or PracticeConfig())}


def test_good_config_passes_every_rule():
    got = checks(GOOD)
    assert {k: c.status for k, c in got.items()} == {
        "lora_lr": "ok", "epochs": "ok", "lora_alpha": "ok", "lora_rank": "ok", "eval_set": "ok",
        "eval_overlap": "skip", "packing_short": "ok", "max_length_cut": "ok"}


@pytest.mark.parametrize("change, rule", [
    ({"learning_rate": 5e-4}, "lora_lr"), ({"learning_rate": 5e-5}, "lora_lr"),
    ({"epochs": 8}, "epochs"), ({"epochs": 1}, "epochs"),
    ({"n_train": 200_000, "epochs": 5}, "epochs"), ({"model_params_b": 72.0, "epochs": 4}, "epochs"),
    ({"max_steps": 5000}, "epochs"),  # 5000 x 16 / 2000 = 40 epochs
    ({"lora_alpha": 128}, "lora_alpha"),
    ({"lora_r": 128, "lora_alpha": 128}, "lora_rank"),
    ({"complexity": "complex"}, "lora_rank"),  # 64 is too low for a complex task
    ({"eval_file": None, "eval_ratio": 0.0}, "eval_set"),
    ({"packing": True, "multi_turn_share": 0.8, "median_tokens": 90}, "packing_short"),
    ({"lengths_over": 200}, "max_length_cut"),
])
def test_each_config_rule_trips(change, rule):
    c = checks(GOOD, **change)[rule]
    assert c.status == "warn", (rule, c.measured["en"])


@pytest.mark.parametrize("change, rule", [
    ({"learning_rate": 1e-4}, "lora_lr"),
    ({"task": "copywriting", "epochs": 8}, "epochs"),  # creative tasks may take 5-10
    ({"n_train": 200_000, "epochs": 2}, "epochs"),
    ({"max_steps": 500}, "epochs"),  # 500 x 16 / 2000 = 4 epochs
    ({"complexity": "complex", "lora_r": 256, "lora_alpha": 256}, "lora_rank"),
    ({"lora_r": 16, "lora_alpha": 16}, "lora_rank"),
    ({"eval_file": None, "eval_ratio": 0.1}, "eval_set"),
    ({"packing": True, "multi_turn_share": 0.1, "median_tokens": 90}, "packing_short"),
    ({"packing": True, "multi_turn_share": 0.9, "median_tokens": 900}, "packing_short"),
    ({"lengths_over": 20}, "max_length_cut"),  # 1%
])
def test_each_config_rule_passes_inside_its_range(change, rule):
    assert checks(GOOD, **change)[rule].status == "ok"


def test_full_fine_tuning_skips_the_lora_rules_and_thresholds_come_from_yaml():
    got = checks(GOOD, method="full", learning_rate=1e-5)
    assert [got[k].status for k in ("lora_lr", "lora_alpha", "lora_rank")] == ["skip"] * 3
    cfg = practice_config_from({"rules": {"lora_lr": {"min": 1e-5, "max": 1e-3}, "lora_alpha": False}})
    got = checks(GOOD, cfg, learning_rate=5e-4, lora_alpha=128)
    assert got["lora_lr"].status == "ok" and "lora_alpha" not in got


def test_eval_overlap_trips_on_near_copies_and_passes_on_new_prompts():
    train = plain(60)
    leaked = [rec(c.messages[0].content, "x", rid=f"e{i}") for i, c in enumerate(train[:5])]
    fresh = [rec(f"something else entirely {text(i + 4000)}", "x", rid=f"f{i}") for i in range(5)]
    cov = near_coverage(leaked + fresh, iter(train), 0.7)
    c = checks(GOOD, eval_overlap=cov)["eval_overlap"]
    assert c.status == "warn" and c.value == 0.5 and len(c.details) == 5
    assert checks(GOOD, eval_overlap=near_coverage(fresh, iter(train), 0.7))["eval_overlap"].status == "ok"


def test_after_training_overfitting_and_metric_gap(tmp_path):
    rows = [{"step": 10, "loss": 2.0}, {"step": 10, "eval_loss": 2.1}, {"step": 20, "loss": 1.5},
            {"step": 20, "eval_loss": 1.8}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    got = {c.id: c for c in after_training_checks(tmp_path)}
    assert got["overfitting"].status == "ok" and "metric_gap" not in got  # no train eval result yet
    msg = "overfitting: eval loss rose 1.8000 -> 2.2000 over the last 2 evaluations while train loss fell"
    with (tmp_path / "metrics.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"step": 40, "event": "overfitting", "message": msg}) + "\n")
    # the shape `train eval RUN` writes to RUN/eval/train_eval.json: per-task gaps and its verdict sentences
    (tmp_path / "eval").mkdir()
    said = "sentiment: overfitting — accuracy is 0.98 on training data but 0.71 on the eval set."
    (tmp_path / "eval" / "train_eval.json").write_text(json.dumps({
        "gap": {"sentiment": {"metric": "accuracy", "train": 0.98, "eval": 0.71, "gap": 0.27},
                "summary": {"metric": "bleu", "train": 31.0, "eval": 29.0, "gap": 2.0}},
        "verdict": [said, "summary: no sign of overfitting"]}))
    got = {c.id: c for c in after_training_checks(tmp_path)}
    assert got["overfitting"].status == "warn" and got["overfitting"].measured["en"] == msg
    assert got["metric_gap"].status == "warn" and got["metric_gap"].value == pytest.approx(0.27)
    assert said in got["metric_gap"].details and "summary: bleu train 31, eval 29, gap +0.02" in got["metric_gap"].measured["en"]
    (tmp_path / "eval" / "train_eval.json").unlink()
    (tmp_path / "train_eval.json").write_text(json.dumps({"train": {"metrics": {"macro_f1": 0.83}},
                                                          "eval": {"metrics": {"macro_f1": 0.80}}}))
    assert {c.id: c for c in after_training_checks(tmp_path)}["metric_gap"].status == "ok"


def test_model_size_from_name_and_config(tmp_path):
    from trainer.practice_checks import model_size_b

    assert model_size_b("Qwen/Qwen2.5-72B-Instruct") == 72.0
    assert model_size_b("/models/Qwen2.5-0.5B") == 0.5
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 4096, "num_hidden_layers": 32,
                                                      "intermediate_size": 11008, "vocab_size": 32000}))
    assert 6.0 < model_size_b(str(tmp_path)) < 7.5  # a Llama-2-7B shape
    assert model_size_b(str(tmp_path / "missing")) is None


# ------------------------------------------------------------------------------ train --check, tiny model
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("trl")
    from trainer.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


@pytest.mark.slow
def test_train_check_prints_the_checks_and_does_not_train(tiny, tmp_path):
    recs = [rec(f"say {text(i, 3)}", f"answer {text(i + 100, 6)}") for i in range(30)]
    data = write(tmp_path / "train.jsonl", recs)
    ev = write(tmp_path / "eval.jsonl", [rec(c.messages[0].content, "x") for c in recs[:4]])
    out = tmp_path / "out"
    r = run_cli(str(data), "--model", str(tiny), "-o", str(out), "--eval", str(ev), "--check", "learning_rate=5e-4",
                "lora_alpha=16", "max_length=24", module="trainer")
    assert r.returncode == 0, r.stderr
    assert not out.exists()  # nothing trained, nothing written
    err = r.stderr
    assert "Practice checks, training data:" in err and "Practice checks, training config:" in err
    assert "WARN LoRA learning rate: learning rate 0.0005" in err
    assert "WARN LoRA alpha vs rank: lora_alpha 16, lora_r 64" in err
    assert "WARN Eval overlapping train: 4 of 4 eval records (100.0%)" in err
    lengths = [line for line in err.splitlines() if "Records longer than max_length:" in line][0]
    assert "WARN" in lengths and "longer than max_length 24 tokens" in lengths
    assert "WARN Data size" not in err  # a general set: no size rule
    ok = run_cli(str(data), "--model", str(tiny), "--check", module="trainer")
    assert ok.returncode == 0, ok.stderr
    assert "Practice checks, training config: 0 warning(s)" in ok.stderr


@pytest.mark.slow
def test_train_prints_the_checks_before_and_after_training(tiny, tmp_path):
    data = write(tmp_path / "train.jsonl", [rec(f"say {text(i, 3)}", f"answer {text(i + 100, 6)}") for i in range(12)])
    out = tmp_path / "out"
    r = run_cli(str(data), "--model", str(tiny), "-o", str(out), "max_steps=4", "eval_steps=2", "batch_size=4",
                "grad_accum=1", "eval_ratio=0.25", module="trainer")
    assert r.returncode == 0, r.stderr
    err = r.stderr
    before, summary, after = (err.index("Practice checks, training config"), err.index("train: 12 in"),
                              err.index("Practice checks, after training"))
    assert before < summary < after
    assert "eval loss" in err[after:]  # the eval-loss trajectory (or the overfitting warning) is reported
    quiet = run_cli(str(data), "--model", str(tiny), "-o", str(tmp_path / "out2"), "max_steps=1", "practice=false",
                    module="trainer")
    assert quiet.returncode == 0 and "Practice checks" not in quiet.stderr


def test_train_check_on_a_finished_run_prints_the_after_training_checks(tmp_path):
    out = tmp_path / "run"
    (out / "eval").mkdir(parents=True)
    rows = [{"step": 5, "loss": 1.0}, {"step": 5, "eval_loss": 1.2}, {"step": 10, "loss": 0.5},
            {"step": 10, "eval_loss": 1.1}]
    (out / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (out / "eval" / "train_eval.json").write_text(json.dumps(
        {"gap": {"cls": {"metric": "macro_f1", "train": 0.95, "eval": 0.6, "gap": 0.35}},
         "verdict": ["cls: overfitting — macro_f1 is 0.95 on training data but 0.6 on the eval set."]}))
    r = run_cli("--check", "-o", str(out), module="trainer")
    assert r.returncode == 0, r.stderr
    assert "Practice checks, after training: 1 warning(s)" in r.stderr
    assert "WARN Train vs eval task metric: cls: macro_f1 train 0.95, eval 0.6, gap +0.35" in r.stderr
    nothing = run_cli("--check", module="trainer")
    assert nothing.returncode == 2 and "nothing to check" in nothing.stderr and "Traceback" not in nothing.stderr


def test_complexity_guess_from_the_data():
    from curator.practice import PracticeFacts
    from curator.practice.task import detect_complexity

    st = PracticeFacts()
    for i in range(10):
        st.add(rec(f"q {text(i)}", text(i + 50), reasoning="step by step " + text(i + 90) if i < 6 else None))
    assert detect_complexity(st, "general", None) == ("complex", "60% of records are reasoning")
    assert detect_complexity(st, "general", "simple") == ("simple", "given")
    plain_st = PracticeFacts()
    for r in plain(10):
        plain_st.add(r)
    assert detect_complexity(plain_st, "classification", None)[0] == "simple"
