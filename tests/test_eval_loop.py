"""The evaluation loop as a `curate run` recipe: sample_data/eval_loop/recipe.yaml (train -> train
eval -> badcases -> augment -> distill -> bestofk -> mix -> train with init_adapter -> train eval
with compare).

The fast tests check how the new stages (``train-eval``, ``eval``, ``augment``) become command
lines and what ``@LABEL`` means for them; the slow one goes round once on the tiny model with the
stand-in teacher on a loopback port, as a user would run it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import orjson
import pytest

from curator.errors import UsageError
from curator.recipe_run import _planned, load_recipe, validate_recipe
from tests.conftest import SAMPLE, run_cli

RECIPE = SAMPLE / "eval_loop" / "recipe.yaml"
needs_train = pytest.mark.skipif(__import__("importlib.util").util.find_spec("peft") is None,
                                 reason="the [train] extra is not installed")


def _plan(recipe_path: Path, workdir: Path) -> dict[str, tuple[list[str], dict[str, Path]]]:
    return {st.label: (args, outs) for st, args, outs in _planned(load_recipe(recipe_path, workdir))}


@needs_train
def test_loop_recipe_validates_and_wires_the_stages(tmp_path):
    wd = tmp_path / "run"
    recipe = load_recipe(RECIPE, wd)
    assert validate_recipe(recipe) == []
    plan = _plan(RECIPE, wd)
    assert list(plan) == ["round1", "eval1", "new_prompts", "distilled", "best", "mixed", "round2", "eval2"]
    # train-eval scores the train stage before it, into its own folder in the run folder
    args, outs = plan["eval1"]
    assert args[0] == str(wd / "round1") and args[args.index("--out") + 1] == str(wd / "eval1")
    assert args[args.index("--data") + 1] == str(RECIPE.parent / "eval.jsonl")
    assert outs == {"data": wd / "eval1" / "train_eval.json", "badcases": wd / "eval1" / "badcases.jsonl"}
    # @eval1.badcases is what train eval writes; @eval1 (compare) its train_eval.json
    assert plan["new_prompts"][0][0] == str(wd / "eval1" / "badcases.jsonl")
    eval2 = plan["eval2"][0]
    assert eval2[0] == str(wd / "round2") and eval2[eval2.index("--compare") + 1] == str(wd / "eval1" / "train_eval.json")
    # @round1 given to init_adapter is round 1's model folder (a train stage has no data output)
    assert f"init_adapter={wd / 'round1'}" in plan["round2"][0]
    # every output lands inside the run folder
    for _, outs in plan.values():
        assert all(p.resolve().is_relative_to(wd.resolve()) for p in outs.values())


def _write(tmp_path: Path, text: str) -> Path:
    for name in ("pred.jsonl", "eval.jsonl", "train.jsonl"):
        (tmp_path / name).write_text('{"messages": [{"role": "user", "content": "q"}, '
                                     '{"role": "assistant", "content": "a"}]}\n', encoding="utf-8")
    p = tmp_path / "recipe.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_eval_stage_hands_its_badcases_to_the_next_stage(tmp_path):
    stages = """
stages:
  - eval: {name: ev, inputs: [pred.jsonl], bootstrap: 0}
  - augment: {per: 2, model: m, base_url: "http://127.0.0.1:9/v1"}
  - eval: {name: again, inputs: [pred.jsonl], compare: "@ev"%s}
"""
    wd = tmp_path / "run"
    # a side output written in the recipe stays inside the run folder (the safety rule of every stage)
    problems = validate_recipe(load_recipe(_write(tmp_path, stages % ", html: ../outside.html"), wd))
    assert len(problems) == 1 and "html" in problems[0] and "outside the run folder" in problems[0]
    p = _write(tmp_path, stages % "")
    assert validate_recipe(load_recipe(p, wd)) == []
    plan = _plan(p, wd)
    args, outs = plan["ev"]
    assert args[args.index("--out") + 1] == str(wd / "ev.json")
    assert args[args.index("--badcases") + 1] == str(wd / "ev.badcases.jsonl")
    # a stage after an eval stage that names no input reads its mistakes
    assert plan["02-augment"][0][0] == str(wd / "ev.badcases.jsonl")
    again = plan["again"][0]
    assert again[again.index("--compare") + 1] == str(wd / "ev.json")


@needs_train
def test_train_eval_needs_a_model_and_takes_only_its_own_keys(tmp_path):
    p = _write(tmp_path, "stages:\n  - train-eval: {data: eval.jsonl, train_smaple: 3}\n")
    problems = validate_recipe(load_recipe(p, tmp_path / "run"))
    assert any("unknown parameter 'train_smaple'" in x and "train_sample" in x for x in problems)
    p = _write(tmp_path, "stages:\n  - train-eval: {data: eval.jsonl}\n")
    with pytest.raises(UsageError, match="no model to evaluate"):
        list(_planned(load_recipe(p, tmp_path / "run")))
    p = _write(tmp_path, "stages:\n  - train-eval: {data: eval.jsonl, out: /tmp/elsewhere}\n")
    problems = validate_recipe(load_recipe(p, tmp_path / "run"))
    assert any("'out' is not a recipe key" in x for x in problems)


def test_a_retrained_model_folder_changes_what_reads_it(tmp_path):
    """train-eval's `run` and train's `init_adapter` are folders: training them again must re-run
    the stages that read them (their weights' size and time are in the fingerprint, not their bytes)."""
    from curator.recipe_run import Stage, _fingerprint
    from curator.recipe_eval import eval_outputs

    model = tmp_path / "round1"
    model.mkdir()
    (model / "adapter_model.safetensors").write_bytes(b"a")
    cases = [(Stage(2, "train-eval", "eval1", {}), [str(model), "--out", str(tmp_path / "eval1")],
              eval_outputs("train-eval", "eval1", tmp_path)),
             (Stage(3, "train", "round2", {}), ["--out", str(tmp_path / "round2"), f"init_adapter={model}"],
              {"model": tmp_path / "round2"})]
    before = [_fingerprint(*c) for c in cases]
    assert before == [_fingerprint(*c) for c in cases]  # stable while nothing changes
    (model / "adapter_model.safetensors").write_bytes(b"retrained")
    after = [_fingerprint(*c) for c in cases]
    assert all(a != b for a, b in zip(before, after))


def test_round_sh_is_a_wrapper_around_the_recipe():
    script = SAMPLE / "eval_loop" / "round.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text(encoding="utf-8")
    assert "curator run" in text and "recipe.yaml" in text


@pytest.mark.slow  # two trainings and two generation passes: minutes on a shared 2-core machine
@needs_train
def test_one_round_of_the_loop(tmp_path):
    pytest.importorskip("trl")
    from tests.chat_server import ChatServer, demo_teacher
    from trainer.tiny import build_tiny_model

    tiny = build_tiny_model(tmp_path / "tiny")
    wd = tmp_path / "loop"
    with ChatServer(responder=demo_teacher, model="demo-teacher") as teacher:
        sets = [f"{s}.base_url={teacher.url}" for s in ("augment", "distill", "bestofk")]
        sets += [f"train.model={tiny}", "train.max_steps=2"]
        argv = ["run", str(RECIPE), "--workdir", str(wd), *[a for s in sets for a in ("--set", s)]]
        res = run_cli(*argv, env={"OPENAI_API_KEY": "not-needed-locally"})
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        # nothing changed: a second run skips all eight stages (model folders are part of the fingerprint)
        again = run_cli(*argv, env={"OPENAI_API_KEY": "not-needed-locally"})
        assert again.returncode == 0 and (again.stdout + again.stderr).count("unchanged, skipped") == 8
    r1 = json.loads((wd / "eval1" / "train_eval.json").read_text())
    assert r1["badcases"]["count"] > 0 and r1["eval"]["tasks"]
    new = [json.loads(x) for x in (wd / "new_prompts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert new and all(n["meta"]["augmented_from"] for n in new)
    assert all(any("\u4e00" <= c <= "\u9fff" for c in n["messages"][0]["content"]) for n in new)  # Chinese stays Chinese
    mixed = [json.loads(x) for x in (wd / "mixed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (wd / "best.jsonl").read_text(encoding="utf-8") and any(m["meta"].get("augmented_from") for m in mixed)
    assert "init_adapter:" in (wd / "round2" / "train_config.yaml").read_text()
    r2 = json.loads((wd / "eval2" / "train_eval.json").read_text())
    assert r2["compare"]["tasks"] and r2["verdict"] and r2["compare"]["other"] == str(wd / "eval1" / "train_eval.json")
    # every curate stage's manifest balances: in = out + rejects
    for name in ("new_prompts", "distilled", "best", "mixed"):
        counts = orjson.loads((wd / f"{name}.manifest.json").read_bytes())["counts"]
        assert counts["balanced"] and counts["out"] > 0, (name, counts)
    # the echoed command lines are the ones a user would type
    assert "train eval " in res.stderr + res.stdout and "curate augment " in res.stderr + res.stdout
