"""`train eval`: the trained tiny model (real transformers + PEFT) or a real loopback server answers
the eval set and a training sample; curate eval's metrics score both; gap and verdict."""

from __future__ import annotations

import json

import pytest

from tests.chat_server import ChatServer
from tests.conftest import run_cli

LABELS = ("正面", "负面")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def cls_rows(n, offset=0):
    return [{"id": f"r{offset + i}", "messages": [{"role": "user", "content": f"评论 {offset + i}：{'很好' if i % 2 else '很差'}"},
                                                  {"role": "assistant", "content": LABELS[i % 2 == 0]}]}
            for i in range(n)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("trl")
    from trainer.tiny import build_tiny_model

    d = tmp_path_factory.mktemp("te")
    tiny = build_tiny_model(d / "tiny")
    data = write_jsonl(d / "train.jsonl", cls_rows(12))
    held = write_jsonl(d / "held.jsonl", cls_rows(4, offset=50))
    out = d / "run"
    r = run_cli(str(data), "--model", str(tiny), "-o", str(out), "max_steps=4", "batch_size=4", "grad_accum=1",
                "eval_ratio=0", "learning_rate=1e-2", "eval_generate_every=2", f"eval_generate_data={held}",
                "eval_generate_n=3", module="trainer")
    assert r.returncode == 0, r.stderr
    return d, out


@pytest.mark.slow
def test_train_eval_local_model(trained):
    d, out = trained
    ev = write_jsonl(d / "eval.jsonl", cls_rows(6, offset=100))
    r = run_cli("eval", str(out), "--data", str(ev), "--train-sample", "6", "--max-new-tokens", "8",
                "--batch-size", "4", "--bootstrap", "100", module="trainer")
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "eval" / "train_eval.json").read_text())
    assert rep["generation"]["eval"]["records"] == 6 and rep["generation"]["train"]["records"] == 6
    assert rep["generation"]["eval"]["tokens_per_s"] > 0
    # the references are labels: the metrics ran as classification (or short-answer generation) on both sets
    tasks = set(rep["eval"]["tasks"])
    assert tasks and tasks == set(rep["train_sample"]["tasks"])
    assert rep["eval"]["records"] == 6 and rep["verdict"]
    preds = [json.loads(x) for x in (out / "eval" / "eval_predictions.jsonl").read_text().splitlines()]
    assert all(p["meta"]["reference"]["content"] in LABELS for p in preds)
    bad = (out / "eval" / "badcases.jsonl").read_text().splitlines()
    assert len(bad) == rep["badcases"]["count"] == sum(t["wrong"] for t in rep["eval"]["tasks"].values())
    assert "tokens/s" in r.stderr and "train_eval.json" in r.stderr


@pytest.mark.slow
def test_train_eval_server_gap_verdict_and_compare(tmp_path):
    # the loopback server echoes the prompt: on the "training" rows the prompt holds the answer
    # (memorised), on the eval rows it does not — a gap the verdict must call overfitting
    train = [{"id": f"t{i}", "messages": [{"role": "user", "content": f"{i} 的平方"},
                                          {"role": "assistant", "content": f"Answer to turn 1: {i} 的平方"}]}
             for i in range(30)]
    ev = [{"id": f"e{i}", "messages": [{"role": "user", "content": f"{i} 的平方是多少"},
                                       {"role": "assistant", "content": f"{i * i} 是 {i} 的平方，这个数字很好算。"}]}
          for i in range(30)]
    tr, ef = write_jsonl(tmp_path / "train.jsonl", train), write_jsonl(tmp_path / "eval.jsonl", ev)
    with ChatServer() as server:
        args = ["eval", str(tmp_path / "run"), "--data", str(ef), "--train-data", str(tr), "--train-sample", "20",
                "--base-url", server.url, "--model", "test-model", "--task", "generation", "--bootstrap", "200"]
        r = run_cli(*args, "-o", str(tmp_path / "e1"), module="trainer", env={"OPENAI_API_KEY": "k"})
        assert r.returncode == 0, r.stderr
        rep = json.loads((tmp_path / "e1" / "train_eval.json").read_text())
        g = rep["gap"]["generation"]
        assert g["train"] == 1.0 and g["eval"] < 0.6 and g["beyond_intervals"]
        assert "overfitting" in rep["verdict"][0]
        r = run_cli(*args, "-o", str(tmp_path / "e2"), "--compare", str(tmp_path / "e1" / "train_eval.json"),
                    module="trainer", env={"OPENAI_API_KEY": "k"})
        assert r.returncode == 0, r.stderr
        cmp = json.loads((tmp_path / "e2" / "train_eval.json").read_text())["compare"]["tasks"]["generation"]
        assert cmp["rouge_l"]["delta"] == 0 and cmp["rouge_l"]["verdict"] == "no clear change"


@pytest.mark.slow
def test_eval_generate_every_logs_task_metrics_and_samples(trained):
    _, out = trained
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    task_rows = [r for r in rows if any(k.startswith("task/") for k in r)]
    assert [r["step"] for r in task_rows] == [2, 4]
    keys = {k for r in task_rows for k in r if k.startswith("task/")}
    assert keys and all(0 <= r[k] <= 1 for r in task_rows for k in r if k.startswith("task/") and not k.endswith("bleu"))
    assert any(r.get("loss") is not None for r in rows)  # the loss is still logged beside them
    samples = (out / "samples" / "step-2.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 3 and json.loads(samples[0])["meta"]["reference"]["content"] in LABELS
    assert (out / "loss.png").stat().st_size > 0
