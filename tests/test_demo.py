"""The README's main job: sample_data/recipe.yaml end to end on the offline tiny model.

Checks what a user would: every stage ran, in = out + rejects in every manifest, the report
exists, the DPO pairs were written and the trained adapter loads on its base model.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.conftest import SAMPLE, run_cli

pytest.importorskip("trl")
pytest.importorskip("peft")


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    from trainer.tiny import build_tiny_model, warm_up

    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    warm_up(path, steps=150)
    return path


@pytest.mark.slow
def test_demo_recipe_end_to_end(tmp_path, teacher):
    wd = tmp_path / "run"
    pairs = tmp_path / "pairs.jsonl"
    res = run_cli("run", str(SAMPLE / "recipe.yaml"), "--workdir", str(wd),
                  "--set", f"distill.model={teacher}", "--set", f"bestofk.model={teacher}",
                  "--set", f"bestofk.pairs={pairs}", "--set", f"train.model={teacher}",
                  "--set", "train.max_steps=4")
    assert res.returncode == 0, res.stderr[-3000:]
    manifests = sorted(wd.glob("*.manifest.json"))
    assert len(manifests) >= 8
    for m in manifests:
        counts = orjson.loads(m.read_bytes())["counts"]
        assert counts["balanced"], (m.name, counts)
    canonical = orjson.loads((wd / "canonical.manifest.json").read_bytes())["counts"]
    assert canonical["rejected"] == 13 and canonical["rejected_by_reason"]["unknown_role"] == 1
    mix = orjson.loads((wd / "08-mix.manifest.json").read_bytes())
    sources = {orjson.loads(line)["meta"]["source"] for line in (wd / "08-mix.jsonl").read_bytes().splitlines()}
    assert len(sources) == 2 and mix["counts"]["out"] > 0
    sel = orjson.loads((wd / "07-select.manifest.json").read_bytes())
    assert sel["counts"]["excluded"] > 0 and (wd / "07-select.unselected.jsonl").exists()
    train_n = len((wd / "09-split.train.jsonl").read_bytes().splitlines())
    eval_n = len((wd / "09-split.eval.jsonl").read_bytes().splitlines())
    assert train_n + eval_n == mix["counts"]["out"] and eval_n > 0
    html = (wd / "10-report.html").read_text(encoding="utf-8")
    assert f">{train_n}<" in html or str(train_n) in html
    assert pairs.exists()
    # the adapter loads on its base and generates
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = wd / "11-train"
    for name in ("adapter_config.json", "train_config.yaml", "metrics.jsonl", "loss.png"):
        assert (out / name).exists(), name
    base = AutoModelForCausalLM.from_pretrained(teacher)
    model = PeftModel.from_pretrained(base, out)
    tok = AutoTokenizer.from_pretrained(out)
    enc = tok.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    gen = model.generate(**enc, max_new_tokens=4, do_sample=False)
    assert gen.shape[1] > enc["input_ids"].shape[1]
    # a second run changes nothing and skips every stage
    again = run_cli("run", str(SAMPLE / "recipe.yaml"), "--workdir", str(wd),
                    "--set", f"distill.model={teacher}", "--set", f"bestofk.model={teacher}",
                    "--set", f"bestofk.pairs={pairs}", "--set", f"train.model={teacher}",
                    "--set", "train.max_steps=4")
    assert again.returncode == 0 and again.stderr.count("unchanged, skipped") == 11
