"""The filters' fast paths give exactly the verdicts of the plain measures they skip.

Each fast path (placeholder prescreen, refusal substring prescreen and ASCII prefix lowering,
ASCII byte tokenizer) is compared with the slow computation on the real
data sets and on random strings mixing ASCII, Latin, Greek, Cyrillic, Han and punctuation."""

from __future__ import annotations

import pytest

import json
import random
import re

from curator import lexicon
from curator.filters.content import Repetition
from curator.filters.repeats import _TOKEN, ngram_repeat_ratio_of, word_tokens

ALPHABET = ("abcdefghij lorem LOREM ipsum I'm sorry 我无法 作为人工智能 但我可以 éÉßİıſΣσςΚK "
            "[]<>{}【】`$\n\t.,!?_0123456789 as an ai language model I can't but I can 您的姓名 "
            "\u2019\u00a0\u3000")
FRAGMENTS = ["[Your Name]", "{{ name }}", "【此处填写】", "Lorem Ipsum", "lorem`x`ipsum", "<insert date>",
             "I'm sorry, but I can't", "As an AI language model", "作为人工智能，我无法", "but I can help",
             "```\ncode [Your Name]\n```", "$[x]$", " the cat sat on the mat " * 3]


def _random_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 40)):
            if rng.random() < 0.3:
                parts.append(rng.choice(FRAGMENTS))
            else:
                parts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30))))
        text = "".join(parts)
        out.append(text if rng.random() < 0.5 else text.encode("ascii", "ignore").decode())
    return out


def _real_texts(real) -> list[str]:
    texts = []
    for path in sorted(real.glob("*.json")):
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        for row in rows if isinstance(rows, list) else []:
            stack = [row]
            while stack:
                x = stack.pop()
                if isinstance(x, str):
                    texts.append(x)
                elif isinstance(x, dict):
                    stack.extend(x.values())
                elif isinstance(x, list):
                    stack.extend(x)
    return texts


def _all_texts(real) -> list[str]:
    return _real_texts(real) + _random_texts(3000)


def test_ascii_tokenizer_equals_the_regex(real):
    for text in _all_texts(real):
        fast = [t.decode() if isinstance(t, bytes) else t for t in word_tokens(text)]
        assert fast == _TOKEN.findall(text.lower()), text


def test_placeholder_prescreen_keeps_every_hit(real):
    default = tuple(lexicon.PLACEHOLDER_PATTERNS)
    never = default + ("(?!x)x",)  # same matches, but not the default tuple: no prescreen
    for text in _all_texts(real):
        for is_prompt in (False, True):
            got = lexicon.find_placeholder(text, "", patterns=default, is_prompt=is_prompt, answer="x")
            assert got == lexicon.find_placeholder(text, "", patterns=never, is_prompt=is_prompt, answer="x"), text


def _refusal_slow(text: str, phrases, within: int, helpful: bool, tool: bool) -> str | None:
    # The measure as it was: lower the whole text, one regex scan.
    rx = lexicon._phrase_re(tuple(phrases))
    low = text.lower().replace("\u2019", "'")
    head = low[:within] if within else low
    hit = rx.search(head)
    if hit is None:
        return None
    pivot = lexicon._TOOL_PIVOT if tool else lexicon._PIVOT
    if helpful and pivot.search(low, hit.end(), hit.end() + lexicon.PIVOT_WINDOW):
        return None
    return hit.group(0)


@pytest.mark.slow
def test_refusal_fast_paths_keep_every_verdict(real):
    phrases = tuple(lexicon.REFUSAL_EN + lexicon.REFUSAL_ZH)
    rng = random.Random(3)
    texts = _all_texts(real)
    # Refusals with offers placed around the prefix/pivot window boundaries.
    for _ in range(400):
        pad = "x " * rng.randint(0, 400)
        texts.append(pad[: rng.randint(0, 400)] + rng.choice(phrases) + " y" * rng.randint(0, 200)
                     + rng.choice([" but I can help", " 但我可以", ""]) + " z" * rng.randint(0, 200))
    for text in texts:
        for within, helpful, tool in ((300, True, False), (0, True, True), (50, False, False), (300, True, True)):
            got = lexicon.find_refusal(text, phrases=phrases, within_chars=within, helpful_declines=helpful,
                                       tool_data=tool)
            assert got == _refusal_slow(text, phrases, within, helpful, tool), (text[:80], within)


def _repeated(toks: list, n: int) -> int:
    seen, dup = set(), 0
    for i in range(len(toks) - n + 1):
        g = tuple(toks[i:i + n])
        dup += g in seen
        seen.add(g)
    return dup


def test_ngram_ratio_counts_repeats():
    rng = random.Random(5)
    for _ in range(2000):
        vocab = rng.randint(1, 30)
        toks = [rng.randrange(vocab) for _ in range(rng.randint(1, 120))]
        for n in (1, 2, 3, 10):
            if len(toks) >= n:
                total = len(toks) - n + 1
                assert ngram_repeat_ratio_of(toks, n)[0] == _repeated(toks, n) / total


def _repetition_slow(f: Repetition, text: str):
    toks = _TOKEN.findall(text.lower())
    if len(text) < f.min_tokens or len(toks) < f.ngram:
        return None
    total = len(toks) - f.ngram + 1
    r = _repeated(toks, f.ngram) / total
    return "repeated_ngrams" if len(toks) >= f.min_tokens and r > f.max_ngram_ratio else None


@pytest.mark.slow
def test_repetition_verdicts_equal_the_full_ngram_count(real):
    texts = _all_texts(real)
    rng = random.Random(9)
    for _ in range(300):  # loops of every strength, around the 0.3 threshold
        words = [rng.choice(["alpha", "beta", "我", "们", "gamma", "delta", "Σίσυφος"]) for _ in range(rng.randint(5, 30))]
        texts.append(" ".join(words * rng.randint(1, 6) + [f"w{i}" for i in range(rng.randint(0, 150))]))
    for params in ({}, {"ngram": 3, "max_ngram_ratio": 0.1, "min_tokens": 5}, {"ngram": 1, "max_ngram_ratio": 0.5}):
        f = Repetition(max_dup_line_ratio=None, **params)
        f.setup()
        for text in texts:
            v = f._check(text)
            got = None if v is True else v.code
            assert got == _repetition_slow(f, text), (params, text[:80])
