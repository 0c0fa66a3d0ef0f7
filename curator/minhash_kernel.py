"""The MinHash signature loop compiled with numba (the `fast` extra), when it is installed.

`curator.minhash` computes signatures with numpy: one array pass per shingle hash term and three
per permutation (multiply, add, `minimum.reduceat`), 64 permutations per text. Each pass runs at
memory speed, but 200 of them over every shingle made MinHash ~65% of `curate dedup`'s first pass.
Here one loop reads each window once, hashes it and folds it into all permutations' minima while
the values sit in registers (the permutation loop is vectorised: AVX-512 has a 64-bit multiply):
about 3x faster, with exactly the same arithmetic, so the same signatures bit for bit
(`tests/test_minhash_kernel.py` compares the two on real data and edge cases).

Without numba, or with ``CURATOR_NO_NUMBA=1``, `kernel()` is None and numpy is used. The compiled
code is cached beside this module (numba falls back to a user cache directory when that is
read-only), so only the first run on a machine pays the ~1 s compile; every process still pays
~0.6 s to import numba and load it, so small batches use numpy until it is loaded
(`minhash._signatures`), and the local dedup driver loads it once before forking its workers.
"""

from __future__ import annotations

import os
from typing import Any, Callable

_state: dict[str, Any] = {}


def kernel() -> Callable[..., None] | None:
    """The compiled `signature_rows`, or None (numba missing or disabled). The first call in a
    process imports numba and loads the cached code (~0.6 s)."""
    return _load().get("signature_rows")


def pair_kernel() -> Callable[..., None] | None:
    """The compiled `equal_counts`, or None (loads numba like `kernel`)."""
    return _load().get("equal_counts")


def band_kernel() -> Callable[..., None] | None:
    """The compiled `band_rows` if numba is loaded in this process already, else None."""
    return (_state.get("fns") or {}).get("band_rows")


def warm() -> bool:
    """Load numba and run each compiled loop once on a tiny input of the types the real calls pass
    (a loop's machine code is loaded from the cache at its first call, ~0.4 s): done once before
    the dedup workers fork, so that no worker and no step of the plan pays it. False without numba."""
    fns = _load()
    if not fns:
        return False
    import numpy as np

    codes = np.frombuffer("warm\0".encode("utf-32-le"), dtype=np.uint32)  # read-only, as minhash makes it
    one = np.ones(1, np.int64)
    out = np.empty((1, 8), np.uint32)
    fns["signature_rows"](codes, np.zeros(1, np.int64), one, np.ones(2, np.uint64), np.ones(8, np.uint64),
                          np.ones(8, np.uint64), out)
    fns["equal_counts"](out, np.zeros(1, np.int64), np.zeros(1, np.int64), np.empty(1, np.int64))
    fns["band_rows"](out, np.ones(2, np.uint64), np.ones((2, 4), np.uint64), np.empty((1, 2), np.uint64))
    return True


def loaded() -> Callable[..., None] | None:
    """The compiled loop if this process has loaded it already, else None (loads nothing)."""
    return (_state.get("fns") or {}).get("signature_rows")


def _load() -> dict[str, Callable[..., None]]:
    if "fns" not in _state:
        _state["fns"] = {} if os.environ.get("CURATOR_NO_NUMBA") else _compile()
    return _state["fns"]


def _compile() -> dict[str, Callable[..., None]]:
    try:
        import numba
    except ImportError:
        return {}
    try:
        return _define(numba, cache=True)
    except RuntimeError:  # no writable cache location at all: compiled in memory, once a process
        return _define(numba, cache=False)


def _define(numba: Any, cache: bool) -> dict[str, Callable[..., None]]:
    import numpy as np

    # nogil: the plan's threads and a Ray worker's threads run them side by side
    jit = numba.njit(cache=cache, nogil=True)

    @jit
    def signature_rows(codes, starts, counts, mult, a, b, out):  # pragma: no cover - compiled
        """out[i] = MinHash of text i: its shingles are the windows codes[starts[i] + j : + n]
        for j < counts[i] (n = len(mult)); rows of texts without shingles are left untouched.
        The arithmetic is `minhash._window_hashes` + `minhash._signatures`' (uint64, wrapping)."""
        n = mult.shape[0]
        perms = a.shape[0]
        row = np.empty(perms, np.uint64)
        s27, s30, s31, s32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)
        m1, m2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
        cap = np.uint64(0xFFFFFFFE)  # EMPTY - 1: a real minimum never reads as "no shingles"
        for i in range(starts.shape[0]):
            if counts[i] == 0:
                continue
            row[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
            first = starts[i]
            for j in range(counts[i]):
                h = np.uint64(0)
                for k in range(n):  # the polynomial over the window's code points
                    h += np.uint64(codes[first + j + k]) * mult[k]
                h ^= h >> s30  # splitmix64 finaliser
                h *= m1
                h ^= h >> s27
                h *= m2
                h ^= h >> s31
                x = h >> s32
                for p in range(perms):  # multiply-shift permutations; the shift is done on the minimum
                    row[p] = min(row[p], a[p] * x + b[p])
            for p in range(perms):
                out[i, p] = np.uint32(min(row[p] >> s32, cap))

    @jit
    def equal_counts(sig, a, b, out):  # pragma: no cover - compiled
        """out[k] = how many of the signature values of rows a[k] and b[k] are equal: the numerator
        of `minhash.estimate_jaccard`, without gathering both rows into temporaries first."""
        perms = sig.shape[1]
        for k in range(a.shape[0]):
            x, y = a[k], b[k]
            same = 0
            for p in range(perms):
                same += sig[x, p] == sig[y, p]
            out[k] = same

    @jit
    def band_rows(sig, seeds, mult, out):  # pragma: no cover - compiled
        """out[i, j] = `minhash.band_keys`' key of row i's band j: the band's seed plus its `rows`
        signature values times their multipliers (uint64, wrapping), then the splitmix64
        finaliser; one pass over the signatures instead of a transposed copy and 3 passes a value."""
        bands, rows = mult.shape
        s27, s30, s31 = np.uint64(27), np.uint64(30), np.uint64(31)
        m1, m2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
        for i in range(sig.shape[0]):
            for j in range(bands):
                h = seeds[j]
                for r in range(rows):
                    h += np.uint64(sig[i, j * rows + r]) * mult[j, r]
                h ^= h >> s30
                h *= m1
                h ^= h >> s27
                h *= m2
                h ^= h >> s31
                out[i, j] = h

    return {"signature_rows": signature_rows, "equal_counts": equal_counts, "band_rows": band_rows}
