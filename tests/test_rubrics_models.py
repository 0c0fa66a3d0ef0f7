"""Reward-model, user-function and composite rubrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.record import Conversation, Message
from rubrics.base import GATED
from rubrics.load import RubricError, load_rubric, recipe_from_dict
from rubrics.reward_model import RewardModelRubric


@pytest.fixture(scope="module")
def reward_model(tmp_path_factory) -> Path:
    from trainer.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("rm") / "rm", kind="reward")


def items():
    c1 = Conversation([Message("user", "What is 2+2?")])
    c2 = Conversation([Message("system", "Be brief."), Message("user", "什么是光合作用？")])
    return [(c1, Message("assistant", "4")), (c2, Message("assistant", "植物利用光能合成有机物的过程，并释放氧气。")),
            (c1, Message("assistant", "The answer is four, because two plus two equals four."))]


def test_reward_model_batch_sizes_agree(reward_model):
    one = RewardModelRubric(str(reward_model), batch_size=1).score_batch(items())
    three = RewardModelRubric(str(reward_model), batch_size=3).score_batch(items())
    assert len(one) == len(three) == 3
    for a, b in zip(one, three):
        assert isinstance(a.value, float) and a.ok
        assert a.value == pytest.approx(b.value, abs=1e-4)
    # Different answers get different rewards (the scalar is read per row, not broadcast).
    assert len({round(s.value, 6) for s in one}) == 3
    # A single item through `score` (batch of one, logits shape (1, 1)) is the same number.
    c, m = items()[0]
    assert RewardModelRubric(str(reward_model)).score(c, m).value == pytest.approx(one[0].value, abs=1e-4)


def test_reward_model_loads_by_path_and_prefix(reward_model):
    assert isinstance(load_rubric(str(reward_model)), RewardModelRubric)
    assert isinstance(load_rubric(f"rm:{reward_model}"), RewardModelRubric)


def test_user_function_and_batched():
    r = load_rubric("tests.rubric_funcs:quality_tag")
    conv = Conversation([Message("user", "q")])
    s = r.score_group(conv, [Message("assistant", "Q=3"), Message("assistant", "none")])
    assert [x.value for x in s] == [3.0, 0.0] and s[0].explanation == "tagged"
    b = load_rubric("py:tests.rubric_funcs:shorter_is_better")
    assert [x.value for x in b.score_group(conv, [Message("assistant", "aa"), Message("assistant", "a")])] == [-2, -1]
    with pytest.raises(RubricError, match="cannot import"):
        load_rubric("nosuchmodule_xyz:f")


def test_composite_gates_terms_and_zscore(reward_model):
    recipe = {
        "name": "q",
        "gates": [{"rule": "no_refusal"}],
        "terms": [{"rule": "language_match", "weight": 1},
                  {"function": "tests.rubric_funcs:quality_tag", "weight": 1}],
        "normalize": "zscore",
    }
    r = recipe_from_dict(recipe)
    conv = Conversation([Message("user", "Explain gravity.")])
    cands = [Message("assistant", "Gravity pulls masses together. Q=2"), Message("assistant", "Gravity bends spacetime. Q=9"),
             Message("assistant", "I'm sorry, but I can't help with that. Q=10")]
    s = r.score_group(conv, cands)
    assert s[2].status == GATED and not s[2].passed and "no_refusal" in s[2].explanation
    assert "quality_tag" not in s[2].parts  # a gated candidate is never scored by the terms
    assert s[1].value > s[0].value and s[0].passed and s[1].passed
    # z-normalised across the two surviving candidates: language terms equal -> 0; tags -> -1, +1.
    assert s[0].value == pytest.approx(-0.5) and s[1].value == pytest.approx(0.5)
    with_rm = recipe_from_dict({"terms": [{"reward_model": str(reward_model)}], "normalize": "zscore"})
    vals = [x.value for x in with_rm.score_group(conv, cands)]
    assert sum(vals) == pytest.approx(0.0, abs=1e-5)


def test_recipe_file_and_errors(sample, tmp_path):
    r = load_rubric(str(sample / "rubric_recipe.yaml"))
    conv = Conversation([Message("user", "什么是光合作用？")])
    s = r.score_group(conv, [Message("assistant", "光合作用是植物利用光能把二氧化碳和水转化为有机物的过程。"),
                             Message("assistant", "Photosynthesis is how plants make their food from light."),
                             Message("assistant", "抱歉，我无法回答这个问题。")])
    assert s[0].value == 1.0 and s[1].value < s[0].value and s[2].status == GATED
    bad = tmp_path / "r.yaml"
    bad.write_text("terms:\n  - rule: length_band\n  - rule: length_band\n", encoding="utf-8")
    with pytest.raises(RubricError, match="unique"):
        load_rubric(str(bad))
    with pytest.raises(RubricError, match="not a rule"):
        load_rubric("no_such_thing")
