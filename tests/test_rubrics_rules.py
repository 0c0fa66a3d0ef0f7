"""Rule rubrics on crafted Chinese and English answers."""

from __future__ import annotations

import pytest

from curator.record import Conversation, Message
from curator.answer_match import last_number, to_fraction
from rubrics.rules import RULES, RuleRubric, script_language


def conv(prompt: str, **meta) -> Conversation:
    return Conversation([Message("user", prompt)], meta=dict(meta))


def run(rule: str, answer: str, prompt: str = "Hello?", reasoning: str | None = None, meta=None, **params):
    return RuleRubric(rule, params).score(conv(prompt, **(meta or {})), Message("assistant", answer, reasoning=reasoning))


def test_json_valid_and_schema():
    assert run("json_valid", '{"a": 1}').passed
    assert run("json_valid", '```json\n{"a": 1}\n```').passed
    bad = run("json_valid", '{"a": 1,}')
    assert not bad.passed and bad.value == 0.0 and "not JSON" in bad.explanation
    schema = {"type": "object", "required": ["name", "age"], "properties": {"age": {"type": "integer"}}}
    assert run("json_valid", '{"name": "李雷", "age": 12}', schema=schema).passed
    s = run("json_valid", '{"name": "李雷", "age": "twelve"}', schema=schema)
    assert not s.passed and "age" in s.explanation


def test_length_band_counts_characters():
    assert run("length_band", "你好世界", min_chars=4).passed
    assert not run("length_band", "你好", min_chars=4).passed
    assert not run("length_band", "x" * 50, max_chars=10).passed


@pytest.mark.parametrize("prompt,answer,ok", [
    ("什么是光合作用？", "光合作用是植物利用光能合成有机物的过程。", True),
    ("什么是光合作用？", "Photosynthesis turns light into chemical energy.", False),
    ("What is photosynthesis?", "Photosynthesis turns light into chemical energy.", True),
    ("What is photosynthesis?", "光合作用是植物利用光能合成有机物的过程。", False),
    ("用Python写一个排序函数", "可以使用 sorted() 函数：```python\nsorted(xs)\n```", True),
])
def test_language_match(prompt, answer, ok):
    assert run("language_match", answer, prompt=prompt).passed is ok


def test_script_language():
    assert script_language("こんにちは、元気ですか") == "ja"
    assert script_language("안녕하세요") == "ko"
    assert script_language("12345 !!") is None


def test_phrases():
    s = run("required_phrases", "第一步：洗手。第二步：擦干。", phrases=["第一步", "第二步", "第三步"])
    assert not s.passed and abs(s.value - 2 / 3) < 1e-9 and "第三步" in s.explanation
    assert run("required_phrases", "Step one only", phrases=["STEP ONE", "step two"], mode="any").passed
    assert not run("forbidden_phrases", "As requested, here is the answer.", phrases=["as requested"]).passed
    assert run("forbidden_phrases", "Here it is.", phrases=["as requested"]).passed


@pytest.mark.parametrize("answer,ok", [
    ("I'm sorry, but I can't help with that request.", False),
    ("I’m sorry, but I can’t help with that.", False),
    ("As an AI language model, I do not have opinions.", False),
    ("抱歉，我无法回答这个问题。", False),
    ("作为一个人工智能，我没有个人观点。", False),
    ("Sure! The sky is blue because of Rayleigh scattering.", True),
    ("天空是蓝色的，因为瑞利散射。", True),
])
def test_no_refusal(answer, ok):
    assert run("no_refusal", answer).passed is ok


@pytest.mark.parametrize("answer,ok", [
    ("Dear [Your Name], thanks.", False),
    ("Meet me on <insert date>.", False),
    ("您好，【此处填写姓名】先生。", False),
    ("Hello {{name}}, welcome.", False),
    # single braces are code/f-strings and LaTeX, not template slots (issue #18)
    ('Use f"Hello {name}" to greet.', True),
    ("The derivative \\frac{d}{dx} x^2 = 2x.", True),
    ("Here is code:\n```python\nd = {x}\n# TODO later\n```\nDone.", True),
    ('The JSON is {"a": 1}.', True),
    ("A complete answer.", True),
])
def test_no_placeholders(answer, ok):
    assert run("no_placeholders", answer).passed is ok


def test_code_fences():
    assert run("code_fences_balanced", "```python\nprint(1)\n```\ntext").passed
    assert not run("code_fences_balanced", "```python\nprint(1)\n").passed
    assert run("code_fences_balanced", "````md\n```inner```\n````").passed
    assert run("code_fences_balanced", "no code").passed


def test_last_number_normalises():
    assert to_fraction(last_number("The total is 1,000.0 dollars")) == 1000
    assert to_fraction(last_number("答案是 3/4")) == to_fraction("0.75")
    assert last_number("no numbers") is None
    assert to_fraction(last_number("it went from 5 to -3")) == -3


def test_answer_matches_reference_math():
    meta = {"reference": "Natalia sold 48/2 = 24 clips in May.\n#### 72"}
    good = run("answer_matches_reference", "She sold 72 clips in total.", reasoning="48 + 24 = 72", meta=meta)
    assert good.passed and good.value == 1.0
    # The reasoning's numbers do not count: only the answer after it.
    bad = run("answer_matches_reference", "She sold 48 clips.", reasoning="48 + 24 = 72", meta=meta)
    assert not bad.passed and "48" in bad.explanation
    inline = run("answer_matches_reference", "<think>\n48+24=72\n</think>\n\n答案是72个。", meta=meta)
    assert inline.passed
    assert not run("answer_matches_reference", "72").passed  # no reference: said so, not passed
    assert run("answer_matches_reference", "The capital is Paris.", meta={"reference": "paris"}, mode="contains").passed


def test_unknown_rule_and_bad_param_are_clear():
    with pytest.raises(KeyError, match="did you mean 'no_refusal'"):
        RuleRubric("no_refusl")
    with pytest.raises(TypeError):
        RuleRubric("length_band", {"min_char": 3})
    assert {"json_valid", "length_band", "language_match", "required_phrases", "forbidden_phrases", "no_refusal",
            "no_placeholders", "code_fences_balanced", "answer_matches_reference"} <= set(RULES)
