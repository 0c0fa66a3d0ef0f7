"""Judge rubric files and the strict verdict parser on real-looking judge outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.record import Conversation, Message
from rubrics.judge import load_judge_file, resolve_rubric_path, shipped_judges, JudgeRubric, RubricFileError
from rubrics.judge_parse import Verdict, combine_pair, parse_pair, parse_rating

GOOD_MT = """The response explains Rayleigh scattering correctly and concisely, though it could mention
why sunsets are red.

Rating: [[8]]"""
GOOD_PROM = """The response reaches 72 like the reference, and each step is correct. [RESULT] 5"""
RAMBLE = "The answer is pretty good overall, I would give it a high score, maybe an 8 out of 10."
CONFLICT = "At first I thought [[3]] but on reflection the answer deserves [[7]]."


def test_mt_bench_rating():
    assert parse_rating(GOOD_MT, "mt_bench", 1, 10) == Verdict(8.0)
    assert parse_rating("Rating: [[ 6.5 ]]", "mt_bench", 1, 10).value == 6.5
    assert parse_rating("[[7/10]]", "mt_bench", 1, 10).value == 7.0


@pytest.mark.parametrize("text,why", [
    (RAMBLE, "no [[rating]]"),
    (CONFLICT, "conflicting"),
    ("Rating: [[11]]", "outside the scale"),
    ("Rating: [[0]]", "outside the scale"),
    ("", "no [[rating]]"),
])
def test_mt_bench_unparseable_is_never_zero(text, why):
    v = parse_rating(text, "mt_bench", 1, 10)
    assert v.value is None and why in v.reason


def test_prometheus():
    assert parse_rating(GOOD_PROM, "prometheus", 1, 5).value == 5.0
    assert parse_rating("Feedback... [RESULT] (3)", "prometheus", 1, 5).value == 3.0
    assert parse_rating("Feedback... [RESULT] 6", "prometheus", 1, 5).value is None
    assert parse_rating("Score: 4", "prometheus", 1, 5).value is None


def test_pair_both_orders():
    a = parse_pair("Assistant A is more accurate. [[A]]")
    b = parse_pair("After comparing, [[B]]")
    c = parse_pair("Both are equally good. [[C]]")
    assert (a.value, b.value, c.value) == ("A", "B", "C")
    assert parse_pair("[[A]] or maybe [[B]]").value is None
    assert parse_pair("A is better").value is None
    # x first then swapped: x as A wins, then x as B wins -> x.
    assert combine_pair(a, b).value == "x"
    assert combine_pair(b, a).value == "y"
    # A judge that always prefers the first position: A then A -> tie, bias cancelled.
    assert combine_pair(a, a).value == "tie"
    assert combine_pair(a, c).value == "x"
    assert combine_pair(a, parse_pair("nonsense")).value is None


def test_shipped_rubric_files_load_and_render():
    names = shipped_judges()
    for want in ("helpfulness", "correctness", "instruction_following", "chinese_style", "format_compliance",
                 "pairwise_helpfulness"):
        assert want in names
    conv = Conversation([Message("user", "小明有5个苹果，吃了2个，还剩几个？")], meta={"reference": "3"})
    for name in names:
        spec = load_judge_file(resolve_rubric_path(name))
        j = JudgeRubric(spec)
        answers = {"answer_a": "3个", "answer_b": "2个"} if spec.pairwise else {"answer": "还剩3个。"}
        msgs = j.render(conv, **answers)
        body = msgs[-1]["content"]
        assert "小明有5个苹果" in body and ("还剩3个" in body or "3个" in body)
        if spec.needs_reference:
            assert "3" in body.split("Reference Answer")[1]
        if spec.format == "prometheus":
            assert "[RESULT]" in body and "Score 1" in body or "1 分" in body
    zh = load_judge_file(resolve_rubric_path("chinese_style"))
    assert zh.scale == (1.0, 5.0) and "中文" in zh.criterion


def test_malformed_rubric_files(tmp_path: Path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nformat: stars\nprompt: hi\n", encoding="utf-8")
    with pytest.raises(RubricFileError, match="format 'stars'"):
        load_judge_file(p)
    m = tmp_path / "bad.md"
    m.write_text("no front matter", encoding="utf-8")
    with pytest.raises(RubricFileError, match="front-matter"):
        load_judge_file(m)
    t = tmp_path / "evil.yaml"
    t.write_text("name: x\nprompt: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\n", encoding="utf-8")
    j = JudgeRubric(load_judge_file(t))
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        j.render(Conversation([Message("user", "q")]), answer="a")
