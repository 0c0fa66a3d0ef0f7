"""Embeddings behind one protocol: the offline default, an OpenAI-compatible `/v1/embeddings`
server, or a local model folder; cached by content hash (`curator.embed_store`).

The default, `lexical`, needs no weights and no download, and reads Chinese as well as English:
hashed character n-grams (2-4 characters, so a Chinese word and an English sub-word are both
features) weighted TF-IDF over the corpus being embedded, then projected to `dim` dimensions by
a sparse random projection (each n-gram adds its weight, with a hashed sign, to 4 hashed
coordinates; Achlioptas/Li's sparse JL). Everything is vectorised numpy over the whole batch:
no Python loop per n-gram, which is what makes it tens of thousands of texts per second on a
laptop core. It was chosen over `wordllama` (static token embeddings shipped in its wheel) by
measurement on labelled real data (bench/select_bench.py, docs/select.md): wordllama's
English-centred vocabulary splits Chinese into bytes, and it scored below the lexical
embedding on MT-Bench categories and source-as-topic.

IDF comes from the corpus embedded together, so a text's vector depends on its corpus; the
identity therefore carries a fingerprint of the corpus, and the cache reuses lexical vectors only
for the same corpus. Model embedders (HTTP, local) are pure functions of the text: their vectors
are reused across corpora.

Every embedder returns float32 rows of unit length, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from curator.errors import UsageError

DEFAULT_DIM = 256
# Texts are cut to this many characters before embedding: prompts that long are rare, and the
# opening of a prompt decides its topic; it bounds time and memory on pathological rows.
MAX_CHARS = 2000
_CHUNK = 2048
CENTER_MIN = 1000  # texts: below this the lexical embedding is not centred
Chunk = tuple  # (number of texts, doc index of each n-gram, its bucket): one run of <= _CHUNK texts


@runtime_checkable
class Embedder(Protocol):
    """Texts in, unit-length float32 rows out."""

    name: str

    def identity(self) -> dict[str, Any]:
        """What decides a vector besides the text (kind, model, dim). No secrets."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised (a zero row for an empty text)."""
        ...


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Unit rows (zero rows stay zero), float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]  # ~10x faster than linalg.norm here
    np.maximum(norms, 1e-12, out=norms)
    return x / norms


# --------------------------------------------------------------------------- the lexical default
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_P = np.uint64(0x100000001B3)  # FNV prime: the rolling hash's multiplier
_SALT = [np.uint64((0x9E3779B97F4A7C15 * (n + 1)) & 0xFFFFFFFFFFFFFFFF) for n in range(16)]


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: every input bit moves every output bit (vectorised, wraps mod 2**64)."""
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


class LexicalEmbedder:
    """Hashed character n-gram TF-IDF + sparse random projection. Offline, no weights, any script."""

    name = "lexical"

    def __init__(self, dim: int = DEFAULT_DIM, ngrams: tuple[int, ...] = (2, 3, 4), buckets_log2: int = 20,
                 hashes: int = 4, idf: bool = True, center: bool = True, seed: int = 0):
        if dim < 8:
            raise UsageError(f"embedding dim {dim}: use at least 8 (default {DEFAULT_DIM})")
        self.dim = dim
        self.ngrams = tuple(sorted(set(ngrams)))
        self.buckets_log2 = buckets_log2
        self.hashes = hashes
        self.idf = idf
        self.center = center
        self.seed = seed
        self._corpus = ""
        self._proj: tuple[np.ndarray, np.ndarray] | None = None

    def identity(self) -> dict[str, Any]:
        return {"kind": "lexical", "dim": self.dim, "ngrams": list(self.ngrams), "buckets_log2": self.buckets_log2,
                "hashes": self.hashes, "idf": self.idf, "center": self.center, "seed": self.seed,
                "corpus": self._corpus}

    def fingerprint_corpus(self, keys: Sequence[str]) -> None:
        """Bind the identity to the corpus (IDF depends on it); `keys` are the texts' content hashes."""
        if self.idf or self.center:
            h = hashlib.sha256()
            for k in keys:
                h.update(k.encode())
            self._corpus = h.hexdigest()[:16]

    def _ngram_buckets(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(doc index, bucket) of every character n-gram of every text, in one vectorised pass."""
        clean = [t[:MAX_CHARS].lower() for t in texts]
        lengths = np.fromiter((len(t) for t in clean), dtype=np.int64, count=len(clean))
        # One separator character between texts so no n-gram spans two of them; the n-grams that
        # contain it are masked out below.
        cps = np.frombuffer("\x00".join(clean).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        cps = cps.astype(np.uint64)
        doc_of = np.repeat(np.arange(len(clean), dtype=np.int32), lengths + 1)[: len(cps)]
        sep = cps == 0
        shift = np.uint64(64 - self.buckets_log2)
        docs_all, buckets_all = [], []
        # polynomial rolling hash, extended one character per n: h_n = h_(n-1) * P + c; one
        # splitmix finaliser per n-gram spreads it over the buckets
        h = cps.copy()
        bad = sep.copy()
        for n in range(2, max(self.ngrams) + 1):
            m = len(cps) - n + 1
            if m <= 0:
                break
            h = h[:m] * _P + cps[n - 1: n - 1 + m]
            bad = bad[:m] | sep[n - 1: n - 1 + m]
            if n in self.ngrams:
                keep = ~bad
                docs_all.append(doc_of[:m][keep])
                buckets_all.append((_mix(h[keep] ^ _SALT[n]) >> shift).astype(np.int32))
        if 1 in self.ngrams:
            docs_all.append(doc_of[~sep])
            buckets_all.append((_mix(cps[~sep] ^ _SALT[1]) >> shift).astype(np.int32))
        if not docs_all:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return np.concatenate(docs_all), np.concatenate(buckets_all)

    def _coord_sign(self, b: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The j-th coordinate each bucket adds to, and its sign (a pure function of bucket, j, seed)."""
        hj = _mix(_mix(b.astype(np.uint64) ^ np.uint64(self.seed * 7919 + 1)) + np.uint64(j + 1) * _P)
        return (hj % np.uint64(self.dim)).astype(np.int32), np.where((hj >> np.uint64(63)) == 1, -1.0, 1.0)

    def _projection(self, total: int) -> tuple[np.ndarray, np.ndarray] | None:
        """A per-bucket table of coordinates and signs, worth building only for a corpus with more
        n-grams than buckets (small inputs hash their n-grams directly); cached once built."""
        if self._proj is None and total > (1 << self.buckets_log2):
            b = np.arange(1 << self.buckets_log2, dtype=np.uint64)
            pairs = [self._coord_sign(b, j) for j in range(self.hashes)]
            self._proj = (np.stack([c for c, _ in pairs]), np.stack([s.astype(np.float32) for _, s in pairs]))
        return self._proj

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        n = len(texts)
        # Chunks of texts: a chunk's (docs x dim) accumulator stays in the CPU cache (one
        # corpus-sized accumulator was 4x slower) and memory stays flat in the corpus size.
        chunks = self.chunks(texts)
        idf = None
        if self.idf and n:
            idf = self.idf_of(sum(self.bucket_counts(c) for c in chunks), n)
        out = self.project(chunks, idf)
        return self.finish(out)

    def chunks(self, texts: Sequence[str]) -> list[Chunk]:
        """(texts, doc index, bucket) per run of at most _CHUNK texts."""
        return [(min(_CHUNK, len(texts) - i), *self._ngram_buckets(texts[i: i + _CHUNK]))
                for i in range(0, len(texts), _CHUNK)]

    def bucket_counts(self, chunk: Chunk) -> np.ndarray:
        """How often each bucket occurs in one chunk (summed over chunks: the collection frequency)."""
        return np.bincount(chunk[2], minlength=1 << self.buckets_log2)

    @staticmethod
    def idf_of(cf: np.ndarray, n: int) -> np.ndarray:
        # Collection frequency stands in for document frequency: no sort over every n-gram of
        # the corpus (the costliest step by far), and in a short text an n-gram rarely repeats,
        # so the two agree.
        return (np.log((1.0 + n) / (1.0 + cf)) + 1.0).astype(np.float32)

    def project(self, chunks: list[Chunk], idf: np.ndarray | None) -> np.ndarray:
        """Un-centred rows of the texts of `chunks` (each of at most _CHUNK texts, in order). A row
        depends only on its own n-grams and `idf`, never on how the texts were cut into chunks, so
        `--engine ray` projects ranges on workers and gets the same bits (curator.embed_ray)."""
        out = np.zeros((sum(c[0] for c in chunks), self.dim), dtype=np.float32)
        table = self._projection(sum(len(c[2]) for c in chunks))
        lo = 0
        for rows, docs, bucket in chunks:
            if len(docs):
                base = docs.astype(np.int64) * self.dim
                w = idf[bucket] if idf is not None else None
                acc = np.zeros(rows * self.dim, dtype=np.float64)
                for j in range(self.hashes):
                    coord, sign = (table[0][j][bucket], table[1][j][bucket]) if table else self._coord_sign(bucket, j)
                    acc += np.bincount(base + coord, weights=sign if w is None else sign * w, minlength=rows * self.dim)
                out[lo: lo + rows] = acc.reshape(rows, self.dim)
            lo += rows
        return out

    def finish(self, out: np.ndarray) -> np.ndarray:
        """Centre (on a corpus large enough) and normalise the projected rows of the whole corpus."""
        if self.center and len(out) >= CENTER_MIN:
            # Remove the component every text shares (common n-grams of the language), which
            # otherwise makes any two texts of one script look alike; measured: +4-10 points of
            # neighbour accuracy (docs/select.md). Only on a corpus large enough that a text's own
            # share of the mean is negligible: on a handful of texts centering subtracts a good
            # part of each text from itself. A text without n-grams stays a zero row.
            out = normalise_rows(out)
            real = out.any(axis=1)
            if real.any():
                out[real] -= out[real].mean(axis=0, keepdims=True)
        return normalise_rows(out)
