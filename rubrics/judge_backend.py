"""The judge's chat function, built on the project's generation layer (no second client).

`make_chat` wraps a `Generator` over a backend from `curator.backends.make_backend`, so judge calls
get the same continuous concurrency, retries with Retry-After, and SQLite cache as distill and
best-of-K generation: a killed run re-scores nothing it already judged. The retry sample index
is the cache's `sample`, so a retried unparseable verdict is a new cache entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class JudgeChat:
    def __init__(self, generator: Any, max_tokens: int = 1024, seed: int = 0):
        self.generator = generator
        self.max_tokens = max_tokens
        self.seed = seed

    async def __call__(self, messages: list[dict[str, str]], *, sample: int, temperature: float) -> str:
        from curator.backends import GenerationRequest, SamplingParams

        req = GenerationRequest(messages, SamplingParams(temperature=temperature, max_tokens=self.max_tokens,
                                                         seed=self.seed + sample), sample=sample, tag="judge")
        result = await self.generator.call(req)
        if not result.choices:
            return ""
        return result.choices[0].content or ""

    def stats(self) -> dict[str, Any]:
        return self.generator.stats.to_dict()

    async def aclose(self) -> None:
        await self.generator.backend.aclose()

    def close_cache(self) -> None:
        if self.generator.cache is not None:
            self.generator.cache.close()


def make_chat(*, model: str, base_url: str | None, api_key_env: str = "OPENAI_API_KEY", cache: Path | None = None,
              concurrency: int = 16, max_retries: int = 6, generator: Any = None) -> JudgeChat:
    """A judge chat function over an OpenAI-compatible server (or a given generator, to share one
    generator and cache between generation and judging)."""
    if generator is None:
        from curator.backends import make_backend
        from curator.cache import ResponseCache
        from curator.generation import Generator, RetryPolicy

        backend = make_backend("openai", model=model, base_url=base_url, api_key_env=api_key_env,
                               concurrency=concurrency)
        generator = Generator(backend, concurrency=concurrency, cache=ResponseCache(cache) if cache else None,
                        retry=RetryPolicy(max_retries=max_retries))
    return JudgeChat(generator)
