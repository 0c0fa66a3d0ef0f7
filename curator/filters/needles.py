"""Which of many joined texts hold one of several byte strings: the search behind `screen.Joined`.

`bytes.find` of a needle of several bytes moves about one byte per step on text-like data (its
skip test shares a bit with the space), once per needle. Measured here on 12 MB of canonical
JSON Lines, three ways are cheaper, chosen by the needle's length:

* one byte: `find`, which is memchr;
* two or three bytes: a pattern of the literal, whose first byte `re` looks for in a tight loop
  (2-3x faster than `find`);
* four bytes or more, when there are several: one numpy pass over every 4-byte window of the
  data. A window whose hash is marked as the first four bytes of some needle is a candidate, and
  `startswith` confirms it; the others cannot start a needle (15 refusal needles: 2.5x faster
  than 15 `find` scans, the same texts).

Every way finds every occurrence a `find` would: the window pass skips only windows that are no
needle's first four bytes, since equal windows hash equal.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from typing import Any, Sequence

_BITS = 16  # window-hash table: 64 Ki flags, so a non-needle window is a candidate 1 time in ~4,000
_MULT = 0x9E3779B1


def texts_holding(data: bytes, starts: list[int], needles: Sequence[bytes]) -> set[int]:
    """Indices of the texts holding one of `needles`; text i of `data` starts at `starts[i]`.
    No needle may span two texts (none holds the bytes that join them)."""
    out: set[int] = set()
    long = tuple(n for n in needles if len(n) >= 4)
    if len(long) >= 2 and len(data) >= 4:
        out |= _windows(data, starts, long)
        needles = [n for n in needles if len(n) < 4]
    for needle in needles:
        out |= _scan(data, starts, needle)
    return out


def _scan(data: bytes, starts: list[int], needle: bytes) -> set[int]:
    # the first occurrence at or after a text's start; after a hit the scan resumes at the next text
    if len(needle) == 1:
        out: set[int] = set()
        k = len(starts)
        find = data.find
        pos = find(needle)
        while pos != -1:
            i = bisect.bisect_right(starts, pos) - 1
            out.add(i)
            if i + 1 >= k:
                break
            pos = find(needle, starts[i + 1])
        return out
    return texts_matching(data, starts, _literal(needle))


def texts_matching(data: bytes, starts: list[int], rx: re.Pattern[bytes]) -> set[int]:
    """Indices of the texts where `rx` matches (no match may span two texts): the search from a
    text's start finds its first match at or after it; after a hit it resumes at the next text."""
    out: set[int] = set()
    k = len(starts)
    search = rx.search
    m = search(data)
    while m is not None:
        i = bisect.bisect_right(starts, m.start()) - 1
        out.add(i)
        if i + 1 >= k:
            break
        m = search(data, starts[i + 1])
    return out


@lru_cache(maxsize=64)
def _literal(needle: bytes) -> re.Pattern[bytes]:
    return re.compile(re.escape(needle))


@lru_cache(maxsize=16)
def _window_table(needles: tuple[bytes, ...]) -> tuple[Any, dict[int, list[bytes]]]:
    """(flags by window hash, needles by their first four bytes as a little-endian int)."""
    import numpy as np

    by_head: dict[int, list[bytes]] = {}
    for n in needles:
        by_head.setdefault(int.from_bytes(n[:4], "little"), []).append(n)
    heads = np.array(sorted(by_head), dtype=np.uint32)
    table = np.zeros(1 << _BITS, dtype=bool)
    with np.errstate(over="ignore"):
        table[(heads * np.uint32(_MULT)) >> np.uint32(32 - _BITS)] = True
    return table, by_head


def _windows(data: bytes, starts: list[int], needles: tuple[bytes, ...]) -> set[int]:
    import numpy as np

    table, by_head = _window_table(needles)
    windows = np.ndarray((len(data) - 3,), dtype="<u4", buffer=data, strides=(1,))  # bytes i..i+3, any i
    with np.errstate(over="ignore"):
        candidates = np.flatnonzero(table[(windows * np.uint32(_MULT)) >> np.uint32(32 - _BITS)])
    out: set[int] = set()
    startswith, head_of = data.startswith, int.from_bytes
    for pos in candidates.tolist():
        for n in by_head.get(head_of(data[pos:pos + 4], "little"), ()):
            if startswith(n, pos):
                out.add(bisect.bisect_right(starts, pos) - 1)
                break
    return out
