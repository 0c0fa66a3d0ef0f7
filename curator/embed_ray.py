"""`--engine ray` for embeddings: the lexical default's work mapped over a Ray cluster.

`select` and `dedup --semantic` read their input on the driver (pass 1 keeps only ids, scores and
the texts) and spend their time embedding; this maps the embedding. The lexical embedding's IDF
and centring depend on the whole corpus, so it runs in three steps that give the local engine's
bits exactly:

1. workers: character n-gram buckets of their span of texts, counted (`bucket_counts`);
2. driver: the counts summed (integers: exact in any order) into the IDF; workers: their span's
   rows projected with it (`project`: a row depends only on its own n-grams and the IDF);
3. driver: the rows concatenated in input order, centred and normalised (`finish`) as locally.

Spans are cut at multiples of the embedder's chunk, so even the per-chunk projection table choice
matches. Workers hash the texts twice (steps 1 and 2) instead of shipping n-gram arrays back and
forth. Model embedders (wordllama, a local folder, HTTP) run on the driver as with --engine local:
an HTTP server is already the parallel part, and a model would have to be loaded on every worker.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from curator.embed import _CHUNK, LexicalEmbedder

_WORKER_EMBEDDERS: dict[tuple, LexicalEmbedder] = {}  # per worker process: the projection table once


def _params(e: LexicalEmbedder) -> tuple:
    return (e.dim, e.ngrams, e.buckets_log2, e.hashes, e.idf, e.center, e.seed)


def _worker_embedder(params: tuple) -> LexicalEmbedder:
    if params not in _WORKER_EMBEDDERS:
        dim, ngrams, buckets_log2, hashes, idf, center, seed = params
        _WORKER_EMBEDDERS[params] = LexicalEmbedder(dim=dim, ngrams=ngrams, buckets_log2=buckets_log2, hashes=hashes,
                                                    idf=idf, center=center, seed=seed)
    return _WORKER_EMBEDDERS[params]


def span_counts(params: tuple, texts: Sequence[str]) -> np.ndarray:
    """Step 1 on a worker: bucket occurrence counts of a span of texts."""
    e = _worker_embedder(params)
    return sum((e.bucket_counts(c) for c in e.chunks(texts)), np.zeros(1 << e.buckets_log2, dtype=np.int64))


def span_rows(params: tuple, texts: Sequence[str], idf: np.ndarray | None) -> np.ndarray:
    """Step 2 on a worker: the span's projected, not yet centred rows."""
    e = _worker_embedder(params)
    return e.project(e.chunks(texts), idf)


def spans(n: int, workers: int) -> list[tuple[int, int]]:
    """About 4 spans per worker, each a whole number of chunks (the last may be short)."""
    chunks = max(1, -(-n // _CHUNK))
    per = max(1, -(-chunks // max(1, 4 * workers)))
    return [(a, min(n, a + per * _CHUNK)) for a in range(0, n, per * _CHUNK)]


class RayLexicalEmbedder(LexicalEmbedder):
    """The lexical embedder with `embed` mapped over Ray; same identity, same vectors."""

    def __init__(self, address: str | None = None, **kw: Any):
        super().__init__(**kw)
        self.address = address
        self.tasks = 0

    @classmethod
    def wrapping(cls, e: LexicalEmbedder, address: str | None) -> "RayLexicalEmbedder":
        return cls(address, dim=e.dim, ngrams=e.ngrams, buckets_log2=e.buckets_log2, hashes=e.hashes, idf=e.idf,
                   center=e.center, seed=e.seed)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from curator.engine.ray_run import connect

        n = len(texts)
        if not n:
            return super().embed(texts)
        ray = connect(self.address)
        counts_task = ray.remote(span_counts)
        rows_task = ray.remote(span_rows)
        params = _params(self)
        cut = spans(n, int(ray.cluster_resources().get("CPU", 1)))
        self.tasks = len(cut)
        refs = [ray.put(list(texts[a:b])) for a, b in cut]
        idf = None
        if self.idf:
            cf = np.zeros(1 << self.buckets_log2, dtype=np.int64)
            for part in ray.get([counts_task.remote(params, r) for r in refs]):
                cf += part
            idf = self.idf_of(cf, n)
        idf_ref = ray.put(idf)
        rows = ray.get([rows_task.remote(params, r, idf_ref) for r in refs])
        return self.finish(np.concatenate(rows))


def for_engine(embedder: Any, engine: str, address: str | None) -> Any:
    """The embedder a command uses: the Ray-mapped lexical one under --engine ray, else as given."""
    if engine == "ray" and type(embedder) is LexicalEmbedder:
        return RayLexicalEmbedder.wrapping(embedder, address)
    return embedder


def engine_note(embedder: Any, engine: str) -> dict[str, Any]:
    """What a manifest records about where the embedding ran (select's `extra.select`)."""
    note: dict[str, Any] = {"engine": engine}
    if engine == "ray":
        note["ray_embed_tasks"] = getattr(embedder, "tasks", 0)  # 0: a model embedder, run on the driver
    return note
