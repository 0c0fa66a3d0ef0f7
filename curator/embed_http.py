"""Embeddings from an OpenAI-compatible ``POST /v1/embeddings`` server (vLLM, Ollama, TEI, OpenAI).

Reuses distill's plumbing rather than a second client: the same `OpenAIHTTPBackend` (official
`openai` client, aiohttp transport, key from an environment variable and never written anywhere,
a dummy key for a local server), the same mapping of every failure onto a coded `BackendError`,
and the same `RetryPolicy` (exponential backoff with jitter, honouring Retry-After). Batches of
`batch_size` texts go out with up to `concurrency` in flight. The cache is the embedding store
(`curator.embed_store`): a text whose content hash is already stored is never sent again.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Sequence

import numpy as np

from curator.backends.base import BackendError, retryable
from curator.embed import normalise_rows
from curator.errors import UsageError
from curator.generation import RetryPolicy


class EmbeddingFailed(UsageError):
    """The server did not return embeddings after the retries; the message names the last error."""


class HTTPEmbedder:
    name = "http"

    def __init__(self, model: str, base_url: str | None, *, api_key_env: str = "OPENAI_API_KEY",
                 batch_size: int = 64, concurrency: int = 8, timeout: float = 120.0,
                 retry: RetryPolicy = RetryPolicy()):
        from curator.backends.openai_http import OpenAIHTTPBackend

        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.batch_size = max(int(batch_size), 1)
        self.concurrency = max(int(concurrency), 1)
        self.timeout = timeout
        self.retry = retry
        self.requests = 0
        self.retries = 0
        self._make = lambda: OpenAIHTTPBackend(model, base_url, api_key_env=api_key_env, timeout=timeout,
                                               max_connections=self.concurrency)
        self._make().identity()  # resolves the key now: a missing one is a usage error before any work

    def identity(self) -> dict[str, Any]:
        """Written to the manifest and the store: the URL without user-info or query (they can hold
        credentials), so the same server is the same identity whoever logs in."""
        from urllib.parse import urlsplit, urlunsplit

        u = urlsplit((self.base_url or "https://api.openai.com/v1").rstrip("/"))
        host = u.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if u.port:
            netloc += f":{u.port}"
        return {"kind": "http", "base_url": urlunsplit((u.scheme, netloc, u.path, "", "")), "model": self.model}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return normalise_rows(asyncio.run(self._embed_all(list(texts))))

    async def _embed_all(self, texts: list[str]) -> np.ndarray:
        backend = self._make()
        sem = asyncio.Semaphore(self.concurrency)
        rng = random.Random(0)  # jitter only
        batches = [texts[i: i + self.batch_size] for i in range(0, len(texts), self.batch_size)]

        async def one(batch: list[str]) -> list[list[float]]:
            attempt = 0
            while True:
                async with sem:
                    self.requests += 1
                    try:
                        return _vectors(await backend.post_json("/embeddings", {"model": self.model, "input": batch}),
                                        len(batch))
                    except BackendError as e:
                        err = e
                if not err.retryable or attempt >= self.retry.max_retries:
                    raise EmbeddingFailed(f"embedding server at {self.identity()['base_url']} failed: {err} "
                                          f"(after {attempt + 1} tries); check --embed-base-url and the model name")
                self.retries += 1
                await asyncio.sleep(self.retry.delay(attempt, err, rng))
                attempt += 1

        try:
            parts = await asyncio.gather(*(one(b) for b in batches))
        finally:
            await backend.aclose()
        return np.asarray([v for part in parts for v in part], dtype=np.float32)


def _vectors(resp: Any, n: int) -> list[list[float]]:
    """`data[*].embedding` in `index` order; anything else is a retryable malformed response."""
    data = resp.get("data") if isinstance(resp, dict) else None
    if not isinstance(data, list) or len(data) != n:
        raise retryable("malformed_response", f"expected {n} embeddings, got {str(resp)[:200]}")
    try:
        rows = sorted(data, key=lambda d: int(d.get("index", 0)))
        vecs = [[float(x) for x in d["embedding"]] for d in rows]
    except (TypeError, KeyError, ValueError, AttributeError):
        raise retryable("malformed_response", "an embedding is not a list of numbers") from None
    if len({len(v) for v in vecs}) != 1:
        raise retryable("malformed_response", "embeddings of different lengths in one reply")
    return vecs
