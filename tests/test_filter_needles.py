"""`filters.needles.texts_holding` (the search behind `screen.Joined`) finds exactly the texts a
plain `needle in text` finds, whichever way it picks for a needle's length (memchr, a literal
pattern, the 4-byte window pass), with hits at text edges, needles sharing their first bytes,
and UTF-8 needles."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from curator.filters.needles import texts_holding
from curator.filters.screen import Joined
from curator.filters.text import _line_may_hold_slot, _may_hold_slot
from curator import lexicon

_PIECES = ["a", "b", "ab", "abc", "abcd", "abcde", "i can", "I CAN", "作为", "我不能", "无法", " ", "\t", "[", "<", "{", "{{",
           "【", "】", "x" * 9, "able to", "t have ", "lorem", "LoReM", "é", "😀"]
_NEEDLES = ["a", "ab", "abc", "abcd", "abce", "abcde", "i can", "作为", "我不能", "{{", "【", "able to", "t have ", "lorem",
            "é", "😀"]


def _naive(texts: list[str], needles: list[str]) -> set[int]:
    return {i for i, t in enumerate(texts) if any(n in t for n in needles)}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join), min_size=1, max_size=12),
       st.lists(st.sampled_from(_NEEDLES), min_size=1, max_size=6, unique=True))
def test_texts_holding_equals_in(texts, needles):
    j = Joined(texts)
    assert j.with_any(needles) == _naive(texts, needles)
    assert texts_holding(j.big, j.starts, [n.encode() for n in needles]) == _naive(texts, needles)


def test_many_long_needles_on_real_sized_data():
    rng = random.Random(5)
    words = ["the", "answer", "is", "i", "can", "help", "able", "to", "have", "作为", "我", "不能", "无法", "\n"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(0, 80))) for _ in range(400)]
    needles = ["i can", "able to", "t have ", "作为", "我不能", "无法", "as a language model", "我拒绝"]
    assert Joined(texts).with_any(needles) == _naive(texts, needles)


def test_placeholder_needs_find_every_default_slot_in_any_case():
    """Every example slot of every default pattern, in several letter cases, is found by the
    lowered searches the placeholder screen runs on texts and on raw lines (a line holds no
    '{{': the plain path leaves those rows to the general one)."""
    slots = ["[INSERT NAME]", "[YOUR NAME]", "[PLACEHOLDER]", "[TODO]", "[Your Name]", "[insert date]", "<YOUR NAME>",
             "<INSERT_X>", "<PLACEHOLDER>", "<insert date>", "<Your Company>", "【姓名】", "【此处填写】", "[此处填写日期]",
             "[请填写姓名]", "[插入图片]", "[填写地址]", "Lorem ipsum", "LOREM IPSUM", "lOrEm iPsUm", "{{name}}"]
    rx = lexicon.placeholder_re(tuple(lexicon.PLACEHOLDER_PATTERNS))
    for slot in slots:
        for text in (slot, f"Dear {slot}, thanks", f"x\n{slot}\ny"):
            assert rx.search(text), slot
            texts = ["nothing here", text, "还是没有"]
            assert 1 in _may_hold_slot(Joined(texts)), text
            if "{{" not in text:
                assert 1 in _line_may_hold_slot(Joined(None, [t.encode() for t in texts])), text
