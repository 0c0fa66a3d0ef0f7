"""answer_match: last-number and exact comparison, GSM8K references, \\boxed{} answers."""

from __future__ import annotations

import json

import pytest

from curator.answer_match import answers_match, last_number, match, normalize, reference_text


@pytest.mark.parametrize("text,num", [
    ("The answer is 42.", "42"), ("Total: $1,234.50 dollars", "1,234.50"), ("It is -3 degrees", "-3"),
    ("Half is 1/2", "1/2"), ("no numbers here", None), ("So \\boxed{18} and then 7 more words 3", "18"),
    ("答案是３６个。", "36"),
])
def test_last_number(text, num):
    assert last_number(text) == num


def test_number_equality_across_forms():
    assert answers_match("The total is 1,234.", "1234")
    assert answers_match("It costs $18.00", "#### 18")
    assert answers_match("0.75 of the pie", "3/4")
    assert answers_match("还剩３个苹果。", "3")
    assert not answers_match("The answer is 19.", "#### 18")
    assert not answers_match("I don't know.", "18")


def test_exact_mode():
    assert answers_match("Yes.", "yes")
    assert answers_match("ＰＡＲＩＳ", "Paris")
    assert not answers_match("Lyon", "Paris")
    assert not answers_match("", "")  # an empty reference never matches
    assert normalize("Hello, World!") == "helloworld"
    assert match("Paris", "Paris", mode="exact").mode == "exact"
    with pytest.raises(ValueError):
        match("a", "b", mode="fuzzy")


def test_reference_text():
    assert reference_text("Step 1...\n#### 72") == "72"
    assert reference_text(" 5 ") == "5"


def test_gsm8k_samples(real):
    """Rejection sampling on real math: the solution is the reasoning, its last number the reference.

    This copy of GSM8K has no '####' line (the worked solution ends with the result), so the
    reference is the whole solution and `number` mode reads its last number — exactly what a
    recipe with `reference: meta.reference` does when the reference field holds a solution.
    """
    from curator.filters import build
    from curator.filters.base import Drop
    from curator.record import Conversation, Message

    rows = json.loads((real / "gsm8k_train_alpaca.json").read_text("utf-8"))[:300]
    flt = build("answer_match", {"reference": "meta.reference", "mode": "number"})
    checked = 0
    for r in rows:
        ref = last_number(r["output"])
        if ref is None or "/" in ref:
            continue
        value = ref.replace(",", "")
        wrong = str(int(float(value)) + 1)

        def make(answer: str) -> Conversation:
            return Conversation([Message("user", r["instruction"]),
                                 Message("assistant", answer, reasoning=r["output"])], meta={"reference": r["output"]})

        assert flt.filter(make(f"The answer is {value}.")) is True
        assert flt.filter(make(f"所以答案是 \\boxed{{{value}}}。")) is True
        v = flt.filter(make(f"So the final answer is {wrong}."))
        assert isinstance(v, Drop) and v.code == "answer_mismatch" and wrong in v.message
        checked += 1
    assert checked >= 250
