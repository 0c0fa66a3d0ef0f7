"""A batch-wide, numpy upper bound on the repeated word n-gram share of many texts at once.

The `repetition` filter's exact measure (`repeats.ngram_repeat_ratio`) builds a Python token list
and a set of n-gram tuples per text: most of the default chain's time. This module computes, for
a whole batch of texts in a few array passes, a number that is never below that share, so a text
whose bound is at or under the threshold is proven to pass, and only the rest (loops, and the odd
unlucky text) are measured exactly.

Why the bound holds (each step can only merge distinct n-grams, never split equal ones, so the
count of distinct n-grams it sees is <= the true count, and the repeat share >= the true share):

1. Tokens are exactly the exact measure's tokens: `_TOKEN.findall(text.lower())` — a Han character
   is a token alone, a run of other `\\w` characters is a token. Lowering is done per code point
   by table (`str.lower` maps every code point on its own except U+03A3 Σ, whose result depends
   on its neighbours, and U+0130 İ, which becomes two characters); texts holding either, a
   lone surrogate or a character beyond the BMP get no bound (the exact measure runs). `\\w` for `re` str patterns is exactly
   `str.isalnum() or "_"` (both are `Py_UNICODE_ISALNUM`).
2. A token's hash is a function of its lower-cased code points (its first ones, its last ones
   and its length; ASCII texts take a byte path that cuts tokens as `repeats.word_tokens` does),
   an n-gram's a function of its token hashes: equal n-grams hash equal; unequal ones may collide
   (merging them, which only raises the bound).
3. Each text's n-gram hashes pick slots in a private range of 8 slots per n-gram; the count of
   occupied slots is <= the count of distinct hashes.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any, Sequence

_MAXCP = 0x10000  # the table covers the BMP; its last entry (U+FFFF) stands for every code point above
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_CONTEXT_CASED = (0x03A3, 0x0130)  # Σ (final-sigma rule) and İ (lowers to two characters)


@lru_cache(maxsize=1)
def tables() -> Any:
    """One uint32 per code point: bits 0-20 the lower-cased code point, bits 21-22 its class (0 =
    not in a token, 1 = word character, 2 = Han: a token alone, of the lower-cased character), bit
    23 set when a text holding it must be measured exactly (Σ, İ, surrogates, and U+FFFF, which
    `take(mode="clip")` gives every code point above the BMP). Built once per process (~10 ms)."""
    import numpy as np

    cps = np.arange(_MAXCP, dtype="<u4")
    chars = cps.tobytes().decode("utf-32-le", "surrogatepass")
    for c in _CONTEXT_CASED:
        chars = chars.replace(chr(c), "a")
    low = chars.lower()
    if len(low) != _MAXCP:  # a Python whose lower() expands another character: no table, no bound
        raise RuntimeError("per-code-point lowering changed the length")
    lower = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), dtype="<u4").copy()
    word = np.fromiter(map(str.isalnum, low), dtype=bool, count=_MAXCP)
    word[ord("_")] = True
    cls = word.astype(np.uint32)
    han = np.zeros(_MAXCP, dtype=bool)
    for lo, hi in _HAN:
        han[lo:hi + 1] = True
    cls[han[lower]] = 2
    table = lower | (cls << np.uint32(21))
    table[list(_CONTEXT_CASED)] |= np.uint32(1 << 23)
    table[0xD800:0xE000] |= np.uint32(1 << 23)
    table[0xFFFF] |= np.uint32(1 << 23)
    return table


_SLOTS = 8  # slots per n-gram: a text with no repeat loses about 1/16 of its n-grams to shared slots
_SCRATCH = threading.local()  # per thread: two threads never share a buffer


_R = 0x9E3779B97F4A7C15
_POW: list = []


def _powers(size: int) -> tuple[Any, Any]:
    """(R**k, R**-k mod 2**64 for k < size), kept between batches."""
    import numpy as np

    if not _POW or len(_POW[0]) < size:
        cap = max(size, 1 << 18)
        with np.errstate(over="ignore"):
            up = np.full(cap, _R, dtype=np.uint64)
            up[0] = 1
            down = np.full(cap, pow(_R, -1, 1 << 64), dtype=np.uint64)
            down[0] = 1
            _POW[:] = [np.cumprod(up, dtype=np.uint64), np.cumprod(down, dtype=np.uint64)]
    return _POW[0], _POW[1]


def _buffer(size: int) -> Any:
    """A scratch int32 array of at least `size`, kept between batches (no page faults per batch)."""
    import numpy as np

    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or len(buf) < size:
        buf = _SCRATCH.buf = np.empty(max(size, 1 << 20), dtype=np.int32)
    return buf


def ngram_bounds(texts: Sequence[str], n: int) -> tuple[Any, Any]:
    """(tokens per text, upper bound of the repeated n-gram share per text; NaN = no bound).

    The token count is exact (a text with a special character: -1). A text with fewer than `n`
    tokens gets 0.0. ASCII texts take a byte path, the others the code-point table."""
    import numpy as np

    k = len(texts)
    counts = np.zeros(k, dtype=np.int64)
    ratio = np.zeros(k, dtype=np.float64)
    flags = np.fromiter(map(str.isascii, texts), dtype=bool, count=k)
    for is_ascii in (True, False):
        idx = np.flatnonzero(flags == is_ascii)
        if not len(idx):
            continue
        part = [texts[i] for i in idx.tolist()]
        toks = _ascii_tokens(part) if is_ascii else _unicode_tokens(part)
        c, r = _bound(toks, len(part), n)
        counts[idx], ratio[idx] = c, r
    return counts, ratio


def _starts(texts: Sequence[str], at: int = 0) -> Any:
    """Where each text starts in `"\n".join(texts)` (after `at` leading characters)."""
    import numpy as np

    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    return np.cumsum(lens + 1) - (lens + 1) + at


def _runs(inside: Any) -> tuple[Any, Any]:
    """(first, last) index of each run of True in `inside`, whose first and last items are False."""
    import numpy as np

    edges = np.flatnonzero(inside[1:] != inside[:-1])  # by turns: just before a run, its last item (a
    # bool array: `nonzero` has a fast path for bools, not for the int8 of `np.diff`)
    return edges[0::2] + 1, edges[1::2]


_PAD = 8  # blanks around the joined texts: every token has a blank on both sides, and 8 bytes to read
_HASH = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)


def _mix(h: Any) -> Any:
    import numpy as np

    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    return h


def _ascii_tokens(texts: Sequence[str]) -> tuple[Any, ...]:
    """Tokens of ASCII texts exactly as `repeats.word_tokens` cuts them (lower-case the bytes,
    blank every non-word byte, runs of the rest): (token hashes, first byte of each token, bad
    texts, where each text starts). A token's hash is a function of its first 8 bytes (read 8 at
    a time, from any offset), its last two (the one before a 1-byte token is always a blank) and
    its length."""
    import numpy as np

    from curator.filters.repeats import _ASCII_NON_WORD

    pad = " " * _PAD
    data = (pad + "\n".join(texts) + pad).encode("ascii").translate(_ASCII_NON_WORD)  # "\n" -> blank
    b = np.frombuffer(data, dtype=np.uint8)
    first, last = _runs(b != 0x20)
    size = last - first + 1
    words = np.ndarray((len(b) - 7,), dtype="<u8", buffer=data, strides=(1,))  # words[i]: bytes i..i+7
    with np.errstate(over="ignore"):
        # the token's first bytes only: a shift by 64 - 8 * k keeps the k low bytes
        head = words[first] & (np.uint64((1 << 64) - 1) >> (np.uint64(64) - np.minimum(size, 8).astype(np.uint64) * np.uint64(8)))
        tail = b[last].astype(np.uint64) | b[last - 1].astype(np.uint64) << np.uint64(8)
        h = head * np.uint64(_HASH[0]) + tail * np.uint64(_HASH[1]) + size.astype(np.uint64) * np.uint64(_HASH[2])
    return _mix(h), first, np.zeros(len(texts), dtype=bool), _starts(texts, _PAD)


def _unicode_tokens(texts: Sequence[str]) -> tuple[Any, ...]:
    """Tokens as `_TOKEN.findall(text.lower())` cuts them, by the code-point table: (token
    hashes, first code point of each token, bad texts, where each text starts). A token's hash is
    a function of its first two lower-cased code points (one for a 1-character token), its last
    one and its length."""
    import numpy as np

    starts = _starts(texts)
    cp = np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    t = tables().take(cp, mode="clip")
    bad = np.zeros(len(texts), dtype=bool)
    if t.max() >= (1 << 23):
        bad[np.searchsorted(starts, np.flatnonzero(t >= (1 << 23)), "right") - 1] = True
    cls = (t >> np.uint32(21)).astype(np.uint8)
    han = cls == 2
    # a token starts where the class changes into a token class, or at any Han character; it
    # ends before the next such start or class change
    change = np.empty(len(cls) + 1, dtype=bool)
    change[0] = change[-1] = True
    np.not_equal(cls[1:], cls[:-1], out=change[1:-1])
    change[:-1] |= han
    change[1:] |= han
    intok = cls != 0
    first = np.flatnonzero(change[:-1] & intok)
    last = np.flatnonzero(change[1:] & intok)
    with np.errstate(over="ignore"):
        second = t[np.minimum(first + 1, last)].astype(np.uint64)
        h = (t[first].astype(np.uint64) | second << np.uint64(32)) * np.uint64(_HASH[0]) \
            + t[last].astype(np.uint64) * np.uint64(_HASH[1]) + (last - first).astype(np.uint64) * np.uint64(_HASH[2])
    return _mix(h), first, bad, starts


def _bound(toks: tuple[Any, ...], k: int, n: int) -> tuple[Any, Any]:
    import numpy as np

    h, first, bad, starts = toks
    ntok = len(first)
    counts = np.diff(np.append(np.searchsorted(first, starts), ntok))  # tokens per text
    ratio = np.zeros(k, dtype=np.float64)
    if ntok >= n:
        tid = np.repeat(np.arange(k), counts)
        with np.errstate(over="ignore"):
            # an n-gram's hash: sum of h[i + j] * R**j (mod 2**64), from one prefix sum of
            # h[k] * R**k shifted back by R**-i (R is odd, so it has an inverse mod 2**64)
            m = ntok - n + 1
            rpow, rinv = _powers(ntok)
            prefix = np.zeros(ntok + 1, dtype=np.uint64)
            np.cumsum(h * rpow[:ntok], out=prefix[1:])
            g = (prefix[n:] - prefix[:m]) * rinv[:m]
            g ^= g >> np.uint64(32)
            g *= np.uint64(0xD6E8FEB86659FD93)
        # n-gram i is text tid[i]'s when its last token is too (else it spans two texts)
        valid = tid[:m] == tid[n - 1:]
        total = np.maximum(counts - n + 1, 0)
        # per text, `_SLOTS` slots per n-gram; a slot written by several n-grams keeps one writer,
        # so the writers that read themselves back count the occupied slots (<= distinct hashes).
        # The n-grams come grouped by text, so each text's range and size are repeated along
        # them; one that spans two texts writes to a spare slot past the end and never counts.
        size = total * _SLOTS + 1
        offs = np.cumsum(size) - size
        spare = int(size.sum())
        with np.errstate(over="ignore"):  # the slot in range: the top 32 bits scaled to the size
            scaled = (g >> np.uint64(32)) * np.repeat(size, counts)[:m].astype(np.uint64) >> np.uint64(32)
        slot = np.where(valid, np.repeat(offs, counts)[:m] + scaled.astype(np.int64), spare)
        who = np.arange(m, dtype=np.int32)
        buf = _buffer(spare + 1)
        buf[slot] = who
        won = buf[slot] == who
        won &= valid
        occupied = np.bincount(tid[:m], weights=won, minlength=k)
        has = total > 0
        ratio[has] = (total[has] - occupied[has]) / total[has]
    ratio[bad] = np.nan
    counts[bad] = -1
    return counts, ratio
