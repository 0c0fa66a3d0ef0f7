"""The report's vectorised paths give exactly the numbers of the plain per-item code."""

from __future__ import annotations

import random
import re

import numpy as np

from curator.report.accum import Distinct
from curator.report.profile import _mix, _mix_arrays, normalise

_WS = re.compile(r"\s+")
SAMPLE = "abc 我们 \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u3000 ΣΑΣ İK x"


def _texts(real) -> list[str]:
    rng = random.Random(4)
    texts = ["".join(rng.choice(SAMPLE) for _ in range(rng.randint(0, 60))) for _ in range(2000)]
    for path in sorted(real.glob("*.json"))[:4]:
        texts.extend(re.findall(r'"([^"\\]{0,400})"', path.read_text(encoding="utf-8")))
    return texts


def test_normalise_equals_the_regex(real):
    for t in _texts(real):
        assert normalise(t) == _WS.sub(" ", t.lower()).strip(), repr(t)


def test_mix_arrays_equals_mix():
    rng = random.Random(1)
    a = [rng.getrandbits(64) for _ in range(5000)] + [0, 2**64 - 1]
    b = [rng.getrandbits(64) for _ in range(5000)] + [2**64 - 1, 0]
    got = _mix_arrays(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)).tolist()
    assert got == [_mix(x, y) for x, y in zip(a, b)]


def test_add_hashes_equals_one_by_one():
    rng = random.Random(2)
    one, many = Distinct(k=64), Distinct(k=64)
    for _ in range(300):
        batch = [rng.getrandbits(64) >> rng.choice([0, 1, 8]) for _ in range(rng.randint(0, 40))]
        for h in batch:
            one.add_hash(h)
        many.add_hashes(np.array(batch, dtype=np.uint64))
        assert one.kept_hashes() == many.kept_hashes() and one.estimate() == many.estimate()


def test_distinct_is_exact_below_k_and_keeps_the_k_smallest():
    d = Distinct(k=4)
    for h in (50, 10, 40, 10):
        d.add_hash(h)
    assert not d.is_estimate and d.estimate() == 3.0 and d.kept_hashes() == [10, 40, 50]
    for h in (30, 20, 60):
        d.add_hash(h)
    assert d.is_estimate and d.kept_hashes() == [10, 20, 30, 40]
