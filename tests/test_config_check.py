"""Configs validate themselves (curator/config_check.py): the same one-line message whether the
config is built from Python, by the CLI (exit 2, no traceback) or by a `curate run` recipe."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Literal, Optional, get_args, get_type_hints

import pytest

from curator.augment import AugmentConfig
from curator.bestofk import BestOfKConfig
from curator.config_check import Bounds, check_config, choices_text
from curator.dedup import DedupConfig
from curator.distill import DistillConfig
from curator.errors import UsageError
from curator.evaluate.run import EvalConfig
from curator.evaluate.tasks import TASKS
from curator.minhash import MinHashParams
from curator.mix import MixConfig, Source
from curator.select import SelectConfig
from curator.split import SplitConfig
from tests.conftest import SAMPLE, run_cli
from trainer.config import TrainConfig

SRC = [Source(SAMPLE / "messages.jsonl", 1.0)]

# (what to build, the exact message a user sees)
BAD = [
    (lambda: DistillConfig(mode="fil"), "--mode 'fil': choose fill, regenerate or multi-turn"),
    (lambda: BestOfKConfig(n_mode="both"), "--n-mode 'both': choose auto, n or seeds"),
    (lambda: BestOfKConfig(answer_as_reference="maybe"), "--answer-as-reference 'maybe': choose auto, always or never"),
    (lambda: BestOfKConfig(k=0), "--k 0: must be >= 1"),
    (lambda: BestOfKConfig(near_dup=0.0), "--near-dup 0.0: must be in (0, 1]"),
    (lambda: BestOfKConfig(pair_min_margin=-1.0), "--pair-min-margin -1.0: must be >= 0"),
    (lambda: DedupConfig(on="both"), "--on 'both': choose prompt, answer or conversation"),
    (lambda: DedupConfig(keep="last"), "--keep 'last': choose first, longest or best-score"),
    (lambda: DedupConfig(threshold=1.5), "--threshold 1.5: must be in (0, 1], e.g. 0.8"),
    (lambda: DedupConfig(conflict_threshold=-0.1), "--conflict-threshold -0.1: must be in [0, 1]"),
    (lambda: MinHashParams(num_perm=4), "--num-perm 4: must be >= 8"),
    (lambda: MinHashParams(ngram_cjk=-1), "--ngram-cjk -1: must be >= 0"),
    (lambda: MixConfig(SRC, by="bytes"), "--by 'bytes': choose records or tokens"),
    (lambda: MixConfig(SRC, max_repeats=0), "--max-repeats 0: must be >= 1"),
    (lambda: MixConfig(SRC, total=0.0), "--total 0.0: must be > 0"),
    (lambda: MixConfig([Source(SAMPLE / "messages.jsonl")], temperature=0.0), "--temperature 0.0: must be > 0"),
    (lambda: MixConfig([]), "no sources: give FILE:RATIO arguments or --config mix.yaml"),
    (lambda: SelectConfig(budget=5, method="random"), "--method 'random': choose deita, kcenter or score"),
    (lambda: SelectConfig(budget=5, embed_on="answer"), "--embed-on 'answer': choose prompt or conversation"),
    (lambda: SelectConfig(fraction=1.5), "--fraction 1.5: must be in (0, 1], e.g. 0.1"),
    (lambda: SelectConfig(budget=0), "--budget 0: must be >= 1"),
    (lambda: SelectConfig(budget=5, ngram=2), "--ngram 2: must be >= 3, e.g. 13"),
    (lambda: SelectConfig(), "give exactly one of --budget N or --fraction F"),
    (lambda: AugmentConfig(per=51), "--per 51: must be in [1, 50]"),
    (lambda: AugmentConfig(threshold=0.0), "--threshold 0.0: must be in (0, 1]"),
    (lambda: EvalConfig(task="summarise"), "--task 'summarise': choose auto, classification, extraction, generation or math"),
    (lambda: EvalConfig(segment="words"), "--segment 'words': choose char or jieba"),
    (lambda: EvalConfig(confidence=1.0), "--confidence 1.0: must be in [0.5, 1)"),
    (lambda: EvalConfig(bootstrap=-1), "--bootstrap -1: must be >= 0"),
    (lambda: SplitConfig(leakage="drop"), "--leakage 'drop': choose move, report or off"),
    (lambda: SplitConfig(leakage_on="meta"), "--leakage-on 'meta': choose prompt, answer or conversation"),
    (lambda: SplitConfig(eval_size=-1.0), "--eval-size -1.0: must be >= 0"),
    (lambda: TrainConfig(method="dora").resolved(), "--method 'dora': choose lora, full or qlora"),
    (lambda: TrainConfig(precision="int8").resolved(), "--precision 'int8': choose auto, bf16, fp16 or fp32"),
]


@pytest.mark.parametrize("build,message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_python_callers_get_the_cli_message(build, message):
    with pytest.raises(UsageError) as e:
        build()
    assert str(e.value) == message


def test_defaults_and_good_values_pass():
    for cls in (DistillConfig, BestOfKConfig, DedupConfig, MinHashParams, AugmentConfig, EvalConfig, SplitConfig):
        cls()
    SelectConfig(fraction=1.0, method="kcenter", threshold=1.0)
    MixConfig(SRC, by="tokens", total=10, max_repeats=3)
    DedupConfig(threshold=1.0, conflict_threshold=0.0, on="answer", keep="best-score")
    AugmentConfig(per=50, threshold=1.0)
    TrainConfig(method="full", train_on="last", reasoning="drop", precision="fp32").resolved()


def test_eval_task_choices_are_the_task_list():
    assert get_args(get_type_hints(EvalConfig)["task"]) == ("auto", *TASKS)


def test_generic_rules_from_type_hints():
    @dataclass
    class Demo:
        colour: Literal["red", "blue"] = "red"
        maybe: Optional[Literal["x"]] = None
        share: Annotated[float, Bounds(0, 1, hi_open=True)] = 0.5
        count: Annotated[int | None, Bounds(2)] = None
        named: Literal["a"] = dataclasses.field(default="a", metadata={"option": "--the-name"})

    check_config(Demo())
    check_config(Demo(maybe="x", count=2, share=0.0))
    for kw, msg in [({"colour": "green"}, "--colour 'green': choose red or blue"), ({"maybe": "y"}, "--maybe 'y': choose x"),
                    ({"share": 1.0}, "--share 1.0: must be in [0, 1)"), ({"count": 1}, "--count 1: must be >= 2"),
                    ({"share": float("nan")}, "--share nan: must be in [0, 1)"), ({"count": True}, "--count True: must be >= 2"),
                    ({"named": "b"}, "--the-name 'b': choose a")]:
        with pytest.raises(UsageError) as e:
            check_config(Demo(**kw))
        assert str(e.value) == msg
    assert choices_text(["a"]) == "a" and choices_text(["a", "b", "c"]) == "a, b or c"


def _one_line_usage_error(r, message: str) -> None:
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert any(message in ln for ln in lines), r.stderr
    assert len([ln for ln in lines if message in ln]) == 1


def test_cli_bad_choice_exits_2_in_one_line(tmp_path):
    r = run_cli("dedup", str(SAMPLE / "messages.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--keep", "last")
    _one_line_usage_error(r, "--keep 'last': choose first, longest or best-score")
    assert not (tmp_path / "o.jsonl").exists()
    r = run_cli("split", str(SAMPLE / "messages.jsonl"), "-o", str(tmp_path / "s"), "--leakage", "drop")
    _one_line_usage_error(r, "--leakage 'drop': choose move, report or off")


def test_recipe_bad_choice_fails_the_same_way(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"name: t\nstages:\n  - dedup: {{inputs: ['{SAMPLE}/messages.jsonl'], keep: last}}\n",
                      encoding="utf-8")
    r = run_cli("run", str(recipe))
    _one_line_usage_error(r, "--keep 'last': choose first, longest or best-score")


def test_chinese_ui_leads_the_same_line_in_chinese(tmp_path):
    env = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "CURATE_UI_LANG": ""}
    r = run_cli("dedup", str(SAMPLE / "messages.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--keep", "last",
                "--ui-lang", "zh", env=env)
    _one_line_usage_error(r, "选项取值不对：--keep 'last': choose first, longest or best-score")
    r = run_cli("dedup", str(SAMPLE / "messages.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--threshold", "1.5",
                "--ui-lang", "zh", env=env)
    _one_line_usage_error(r, "选项取值超出范围：--threshold 1.5: must be in (0, 1], e.g. 0.8")
