"""MinHash signatures and LSH band keys over character shingles, vectorised with numpy.

Pure per-batch functions (`shingle_hashes`, `signatures`, `band_keys`) with no state beyond
their arguments, so a cluster engine (Ray Data's `map_batches`) can map them unchanged.

Why character shingles: Chinese has no spaces, so word shingles (text-dedup splits on ``\\W``,
data-juicer on spaces) see a whole Chinese paragraph as one "word". Character n-grams over the
normalised text (see `curator.textnorm`) work the same for both languages.

Why not xxhash per shingle: a Python call per shingle costs ~150 ns, i.e. ~45 µs for a
300-character text — more than the whole MinHash. Instead each batch is turned into one array
of code points and every n-gram is hashed at once: a polynomial over the code points with random
64-bit odd multipliers (mod 2^64), then the splitmix64 finaliser for avalanche. That is a 64-bit
hash per shingle computed entirely in numpy.

Permutations are multiply-shift hashes (Dietzfelbinger): for a 32-bit x and random 64-bit a, b,
``h(x) = ((a*x + b) mod 2^64) >> 32`` is a strongly universal family, and uint64 arithmetic in numpy
wraps mod 2^64 for free. The minimum of the top 32 bits is the top 32 bits of the minimum of the whole
word, so each permutation costs three array passes (multiply, add, `minimum.reduceat`) and the shift is
done once on the reduced signature. The earlier ``(a*x + b) mod (2^31 - 1)`` needed four more passes
for the modular reduction (a mask, a shift, an add and a conditional subtract), which made it about
twice as slow for the same estimates. Beware the tempting shortcuts: a Mersenne prime 2^61 - 1 with
a < 2^31 spans only a few multiples of p, is nearly monotone in x, and every "permutation" then picks
the same minimum (we measured estimates of 0.96 for texts whose true Jaccard is 0.6). Signature values
fit in uint32 (1M records x 128 permutations x 2 texts = 1 GB in uint32 instead of 2 GB).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

import numpy as np

from curator.config_check import Bounds, check_config
from curator.cpus import available_cpus
from curator.minhash_kernel import band_kernel, kernel, loaded, pair_kernel

_SHIFT32 = np.uint64(32)
_CHUNK = 1 << 15  # shingles per chunk (256 KB of uint64)
COMPILE_MIN_CODES = 1 << 20  # code points in one batch from which the compiled loop is loaded
EMPTY = np.uint32(0xFFFFFFFF)  # signature row of an empty text (no shingles): never bucketed


@dataclass(frozen=True)
class MinHashParams:
    """num_perm permutations, character n-grams of `ngram` (of `ngram_cjk` for text that is mostly
    Chinese, Japanese or Korean characters; 0 = `ngram` for all), and the seed of the permutations.

    Why a second size: a Han character carries about a word's worth of meaning, so a 5-gram of
    Chinese spans ~5 words where an English 5-gram spans one, and each small edit breaks five
    times more of the text's shingles. Measured on alpaca_zh_demo with 1-4 programmatic edits
    (`bench/dedup_zh_bench.py`, docs/dedup.md): at threshold 0.7, 5-grams find 78% of the
    4-edit variants (F1 0.931), bigrams 95% (F1 0.990), with no false merge at either size.
    """

    num_perm: Annotated[int, Bounds(8)] = 64
    ngram: Annotated[int, Bounds(1)] = 5
    seed: int = 1
    ngram_cjk: Annotated[int, Bounds(0)] = 2

    def __post_init__(self) -> None:
        check_config(self)

    def size_for(self, cjk: bool) -> int:
        return self.ngram_cjk if cjk and self.ngram_cjk else self.ngram


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def is_cjk(text: str) -> bool:
    """True when at least half the characters of a (normalised) text are Han, kana or Hangul."""
    if not text or text.isascii():  # the common case for English, at memory speed
        return False
    return 2 * _CJK_CHAR.subn("", text)[1] >= len(text)


def shingle_sizes(texts: list[str], params: MinHashParams) -> np.ndarray:
    """The n-gram size each text is shingled with (int64 [len(texts)])."""
    if not params.ngram_cjk or params.ngram_cjk == params.ngram:
        return np.full(len(texts), params.ngram, dtype=np.int64)
    return np.fromiter((params.size_for(is_cjk(t)) for t in texts), dtype=np.int64, count=len(texts))


def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place: spreads every input bit over every output bit."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@lru_cache(maxsize=16)
def _coefficients(num_perm: int, ngram: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 64, num_perm, dtype=np.uint64, endpoint=False)
    b = rng.integers(0, 1 << 64, num_perm, dtype=np.uint64, endpoint=False)
    mult = rng.integers(1 << 32, 1 << 63, ngram, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return a, b, mult


def _windows(texts: list[str], ngram: int) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """The code points of the texts joined with n-1 NULs after each (None when no text has a
    shingle), each text's first window and its count of shingles: text i's shingles are the
    windows at ``starts[i] .. starts[i] + counts[i] - 1``; the windows between texts are not shingles.

    A text shorter than `ngram` (but not empty) is one shingle (its window runs into the NULs); an
    empty text has none."""
    n = ngram
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    counts = np.where(lens == 0, 0, np.maximum(1, lens - n + 1))
    starts = np.concatenate(([0], np.cumsum(lens + (n - 1))[:-1])).astype(np.int64)
    if counts.sum() == 0:
        return None, starts, counts
    pad = "\0" * (n - 1)
    # each text followed by n-1 NULs, so a window never runs into the next text
    codes = np.frombuffer((pad.join(texts) + pad).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return codes, starts, counts


def _window_hashes(texts: list[str], ngram: int, seed: int,
                   windows: tuple[np.ndarray | None, np.ndarray, np.ndarray] | None = None,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """64-bit hashes of every window of `_windows`, with each text's first window and its count of
    shingles: text i's shingles are ``h[starts[i]:starts[i] + counts[i]]``.

    The arithmetic is done in place with one scratch array: the earlier version allocated a
    temporary per term and per mixing step, and gathered the shingles into a compact array, which
    together cost as much as the 64 permutations."""
    n = ngram
    codes, starts, counts = windows or _windows(texts, n)
    if codes is None:
        return np.empty(0, np.uint64), starts, counts
    _, _, mult = _coefficients(1, n, seed)
    w = len(codes) - n + 1
    h = np.multiply(codes[0:w], mult[0], dtype=np.uint64)
    tmp = np.empty_like(h)
    for k in range(1, n):
        np.multiply(codes[k:k + w], mult[k], out=tmp, dtype=np.uint64)
        h += tmp
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (None, None)):  # _mix64, in place
        np.right_shift(h, np.uint64(shift if shift else 31), out=tmp)
        h ^= tmp
        if factor:
            h *= np.uint64(factor)
    return h, starts, counts


def shingle_hashes(texts: list[str], ngram: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every character n-gram of every text, and the count per text.

    A text shorter than `ngram` (but not empty) is one shingle; an empty text has none.
    Returns (hashes uint64 [sum(counts)], counts int64 [len(texts)]), grouped by text in order.
    """
    h, starts, counts = _window_hashes(texts, ngram, seed)
    if not len(h):
        return h, counts
    offsets = np.cumsum(counts) - counts
    idx = np.arange(counts.sum(), dtype=np.int64) + np.repeat(starts - offsets, counts)
    return h[idx], counts


def signatures(texts: list[str], params: MinHashParams = MinHashParams(),
               sizes: np.ndarray | None = None) -> np.ndarray:
    """MinHash signatures (uint32 [len(texts), num_perm]) of already-normalised texts, each
    shingled with its script's n-gram size (`shingle_sizes`).

    Empty texts get a row of `EMPTY`. The same text gives the same row whatever batch it is in.
    """
    if sizes is None:
        sizes = shingle_sizes(texts, params)
    first = int(sizes[0]) if len(sizes) else params.ngram
    if (sizes == first).all():
        return _signatures(texts, params, first)
    out = np.empty((len(texts), params.num_perm), dtype=np.uint32)
    for n in np.unique(sizes).tolist():
        idx = np.flatnonzero(sizes == n)
        out[idx] = _signatures([texts[i] for i in idx], params, n)
    return out


def _signatures(texts: list[str], params: MinHashParams, ngram: int) -> np.ndarray:
    """Signatures of texts all shingled with `ngram`: compiled when numba is installed
    (`curator.minhash_kernel`), else with numpy; the same values either way."""
    codes, starts, counts = _windows(texts, ngram)
    # loading numba costs ~0.6 s a process: worth it from a few MB of text, not for a small file
    compiled = kernel() if codes is not None and len(codes) >= COMPILE_MIN_CODES else loaded()
    if compiled is None:
        return _signatures_numpy(texts, params, ngram, (codes, starts, counts))
    out = np.full((len(texts), params.num_perm), EMPTY, dtype=np.uint32)
    if codes is not None:
        _, _, mult = _coefficients(1, ngram, params.seed)
        a, b, _ = _coefficients(params.num_perm, params.ngram, params.seed)
        compiled(codes, starts, counts, mult, a, b, out)
    return out


def _signatures_numpy(texts: list[str], params: MinHashParams, ngram: int,
                      windows: tuple[np.ndarray | None, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    out = np.full((len(texts), params.num_perm), EMPTY, dtype=np.uint32)
    h, starts, counts = _window_hashes(texts, ngram, params.seed, windows)
    nonempty = np.flatnonzero(counts)
    if len(nonempty) == 0:
        return out
    h >>= _SHIFT32  # the top 32 bits of each shingle hash: the x of the multiply-shift family
    first = starts[nonempty]
    last = first + counts[nonempty]  # end (exclusive) of each text's shingles
    a, b, _ = _coefficients(params.num_perm, params.ngram, params.seed)
    sig = np.empty((len(nonempty), params.num_perm), dtype=np.uint64)
    # Work through the shingles in cache-sized chunks of whole texts: the passes per permutation
    # then run out of L2 instead of main memory (about twice as fast). The windows between two
    # texts stay in the chunk; `reduceat` over (first, last) pairs reduces them into every other
    # result, which is dropped, instead of gathering the shingles into a compact array first.
    row = 0
    while row < len(nonempty):
        lo = int(first[row])
        stop = max(int(np.searchsorted(last, lo + _CHUNK, side="right")), row + 1)
        xs = h[lo:int(last[stop - 1])]
        seg = np.empty(2 * (stop - row), dtype=np.int64)
        seg[0::2] = first[row:stop] - lo
        seg[1::2] = last[row:stop] - lo
        seg = seg[:-1]  # the last text runs to the end of the chunk
        v = np.empty_like(xs)
        for k in range(params.num_perm):
            np.multiply(xs, a[k], out=v)
            v += b[k]
            sig[row:stop, k] = np.minimum.reduceat(v, seg)[0::2]
        row = stop
    sig >>= _SHIFT32
    # EMPTY marks "no shingles"; a real minimum equal to it (p = 2^-32) is moved one below
    out[nonempty] = np.minimum(sig, np.uint64(EMPTY) - np.uint64(1)).astype(np.uint32)
    return out


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit bucket key per (record, band): uint64 [len(sigs), bands].

    Two records share band j's key iff their signatures agree on that band's `rows` values
    (up to a 2^-64 hash collision). Bands are hashed with distinct multipliers, so keys of
    different bands never need to be told apart by the caller.
    """
    n = len(sigs)
    keys = np.empty((n, bands), dtype=np.uint64)
    rng = np.random.default_rng(0xBA5D)
    mult = rng.integers(1 << 32, 1 << 63, (bands, rows), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    compiled = band_kernel()  # when numba is loaded already (the signatures were large enough)
    if compiled is not None:
        seeds = np.array([((j + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF for j in range(bands)], np.uint64)
        compiled(sigs, seeds, mult, keys)
        return keys
    # one transposed copy of the used columns (uint32), each widened only when used: converting the
    # whole [n, num_perm] block to uint64 first cost 5x more (1.2 s of a 200k-record plan)
    cols = np.ascontiguousarray(sigs[:, :bands * rows].T)
    for j in range(bands):
        h = np.full(n, ((j + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        for r in range(rows):
            h += cols[j * rows + r].astype(np.uint64) * mult[j, r]
        keys[:, j] = _mix64(h)
    return keys


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of row pairs: the share of equal signature values."""
    # a count, then one division: the same float64 as `.mean()` (an exact integer over num_perm),
    # without converting every comparison to a float first
    return np.count_nonzero(sig_a == sig_b, axis=-1) / sig_a.shape[-1]


PAIRS_MIN = 1 << 20  # pairs from which `pair_similarity` loads the compiled loop


def pair_similarity(sig: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`estimate_jaccard(sig[a], sig[b])` for index arrays a, b (float64 [len(a)]).

    With numba (`minhash_kernel.pair_kernel`) the equal values are counted without gathering the
    rows, on every core (the compiled loop releases the GIL): the plan verifies ~12M candidate
    pairs at 1M records, and the gathers were its largest cost. The same float64 values either way:
    an exact integer count over num_perm."""
    compiled = pair_kernel() if len(a) >= PAIRS_MIN or loaded() is not None else None
    if compiled is None:
        chunk = 65536  # gathered rows of this many pairs at a time (~32 MB at 64 permutations)
        out = np.empty(len(a), dtype=np.float64)
        for s in range(0, len(a), chunk):
            out[s:s + chunk] = estimate_jaccard(sig[a[s:s + chunk]], sig[b[s:s + chunk]])
        return out
    counts = np.empty(len(a), dtype=np.int64)
    parts = min(available_cpus(), max(1, len(a) // 65536))
    bounds = np.linspace(0, len(a), parts + 1).astype(np.int64).tolist()
    if parts == 1:
        compiled(sig, a, b, counts)
    else:
        with ThreadPoolExecutor(parts) as ex:
            list(ex.map(lambda i: compiled(sig, a[bounds[i]:bounds[i + 1]], b[bounds[i]:bounds[i + 1]],
                                           counts[bounds[i]:bounds[i + 1]]), range(parts)))
    return counts / sig.shape[1]


def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.1, fn_weight: float = 0.9) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm minimising the weighted areas of false positives
    (similarity below threshold that still collide) and false negatives (above it that do not).

    The same criterion as datasketch's MinHashLSH, integrated numerically here, but weighted 0.1 /
    0.9 instead of datasketch's 0.5 / 0.5: a false positive only costs one verification (every
    candidate pair is checked on its estimate), a false negative is a duplicate left in the data.
    At 0.7 the even weights pick 8 bands of 8 rows, which bring a pair of true similarity 0.8
    together only 77% of the time; 12 bands of 5 rows do it 99% of the time.
    """
    best, best_err = (1, num_perm), float("inf")
    lo = np.linspace(0.0, threshold, 200)
    hi = np.linspace(threshold, 1.0, 200)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - lo ** r) ** b, lo)
            fn = np.trapezoid((1 - hi ** r) ** b, hi)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err - 1e-12:
                best, best_err = (b, r), err
    return best
