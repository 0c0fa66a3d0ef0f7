"""The generator every generating command shares (distill, best-of-K, augment, judges).

- **Continuous concurrency.** A semaphore of `concurrency` slots bounds the requests in flight;
  a slot is handed to the next waiting request the moment one finishes, so the window never
  drains to refill batch by batch (which is what caps batch-based tools at batch/latency).
- **Ordered output.** `map_ordered` runs a coroutine per item and yields results in input order.
  It admits at most `window` items ahead of the oldest unfinished one, so memory stays bounded
  even when one record is stuck in retries.
- **Retries.** 429/5xx/timeouts/connection errors/malformed bodies are retried with exponential
  backoff and full jitter, honouring `Retry-After`; a retry waits outside the semaphore so it
  does not hold a slot. After `max_retries` the caller gets `GenerationFailed` with the last error.
- **Cache.** Every success is stored at once (`curator.cache`); a cached request is not sent.
- **Limits.** Optional requests-per-minute and tokens-per-minute token buckets.

`split_answer` turns a backend `Choice` into (reasoning, answer, truncation) the same way for
every command: `reasoning_content` when the server separates it, else a leading ``<think>`` block.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, TypeVar

from curator.backends.base import Backend, BackendError, Choice, GenerationRequest, GenerationResult
from curator.cache import ResponseCache, cache_key
from curator.errors import RowError
from curator.formats.common import ReadOptions, split_think

T = TypeVar("T")
R = TypeVar("R")


# ------------------------------------------------------------------------------ retries, limits
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: try k waits U(0.5, 1) * min(cap, base * 2**k), or the
    server's Retry-After (capped at `max_retry_after`) when it sends one."""

    max_retries: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, err: BackendError, rng: random.Random) -> float:
        if err.retry_after is not None:
            return min(max(err.retry_after, 0.0), self.max_retry_after)
        return min(self.cap, self.base * (2 ** attempt)) * rng.uniform(0.5, 1.0)


class RateLimiter:
    """Token bucket refilled at `per_minute / 60` per second, holding one second's worth.

    An acquisition may overdraw the bucket (a 4k-token request under a 1k-token bucket must still
    run); the debt delays the next ones. Waiters are served in arrival order.
    """

    def __init__(self, per_minute: float):
        self.rate = per_minute / 60.0
        self.capacity = max(self.rate, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, amount: float = 1.0) -> None:
        async with self._lock:
            self._refill()
            while self.tokens <= 0:
                await asyncio.sleep(-self.tokens / self.rate + 1e-3)
                self._refill()
            self.tokens -= amount

    def adjust(self, delta: float) -> None:
        """Correct an estimate after the fact (actual tokens - estimated tokens)."""
        self._refill()
        self.tokens -= delta


# ----------------------------------------------------------------------------------- statistics
@dataclass
class GenerationStats:
    """Counters for the progress line and the manifest."""

    sent: int = 0            # HTTP (or local) calls made, retries included
    succeeded: int = 0       # calls that returned an answer
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0        # requests given up on (after retries, or not retryable)
    prompt_tokens: int = 0   # fresh (not cached) calls only: what this run paid for
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def cost(self, price_in: float | None, price_out: float | None) -> float | None:
        if price_in is None and price_out is None:
            return None
        return (self.prompt_tokens * (price_in or 0.0) + self.completion_tokens * (price_out or 0.0)) / 1e6

    def to_dict(self) -> dict[str, Any]:
        return {"requests_sent": self.sent, "answers_received": self.succeeded, "cache_hits": self.cache_hits,
                "retries": self.retries, "failed_requests": self.failures, "errors": dict(sorted(self.errors.items())),
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


class GenerationFailed(Exception):
    """A request given up on; `error` is the last `BackendError`, `attempts` how many tries it got."""

    def __init__(self, error: BackendError, attempts: int):
        super().__init__(f"{error} (after {attempts} {'try' if attempts == 1 else 'tries'})")
        self.error = error
        self.attempts = attempts


# --------------------------------------------------------------------------------------- generator
class Generator:
    """Runs requests against one backend with concurrency, retries, cache and limits."""

    def __init__(self, backend: Backend, *, concurrency: int = 64, cache: ResponseCache | None = None,
                 retry: RetryPolicy = RetryPolicy(), rpm: float | None = None, tpm: float | None = None,
                 on_event: Callable[[str], None] | None = None, seed: int = 0):
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.backend = backend
        self.concurrency = concurrency
        self.cache = cache
        self.retry = retry
        self.stats = GenerationStats()
        self._identity = backend.identity()
        self._sem: asyncio.Semaphore | None = None
        self._rpm = RateLimiter(rpm) if rpm else None
        self._tpm = RateLimiter(tpm) if tpm else None
        self._on_event = on_event or (lambda kind: None)
        self._rng = random.Random(seed)  # jitter only: never affects what is generated

    def key(self, request: GenerationRequest) -> str:
        return cache_key(self._identity, request)

    def cached(self, request: GenerationRequest) -> GenerationResult | None:
        return self.cache.get(self.key(request)) if self.cache is not None else None

    async def call(self, request: GenerationRequest) -> GenerationResult:
        """The answer to one request: from the cache, or from the backend with retries.

        Raises `GenerationFailed` when retries run out or the error is not retryable.
        """
        key = self.key(request) if self.cache is not None else ""
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.stats.cache_hits += 1
                self._on_event("cache_hit")
                return hit
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        attempt = 0
        while True:
            estimate = 0.0
            async with self._sem:
                if self._rpm is not None:
                    await self._rpm.acquire(1)
                if self._tpm is not None:
                    estimate = request.prompt_chars() / 4 + (request.params.max_tokens or 512) * request.params.n
                    await self._tpm.acquire(estimate)
                self.stats.sent += 1
                try:
                    result = await self.backend.generate(request)
                    err = None
                except BackendError as e:
                    err = e
            if err is None:
                self.stats.succeeded += 1
                self.stats.prompt_tokens += result.usage.prompt_tokens
                self.stats.completion_tokens += result.usage.completion_tokens
                if self._tpm is not None:
                    self._tpm.adjust(result.usage.total_tokens - estimate)
                if self.cache is not None:
                    self.cache.put(key, result)
                self._on_event("answer")
                return result
            if not err.retryable or attempt >= self.retry.max_retries:
                self.stats.failures += 1
                self.stats.errors[err.code] = self.stats.errors.get(err.code, 0) + 1
                self._on_event("failure")
                raise GenerationFailed(err, attempt + 1)
            self.stats.retries += 1
            self._on_event("retry")
            await asyncio.sleep(self.retry.delay(attempt, err, self._rng))
            attempt += 1

    async def map_ordered(self, items: Iterable[T], fn: Callable[[T], Awaitable[R]], *,
                          window: int | None = None) -> AsyncIterator[R]:
        """`fn(item)` for every item, up to `window` items in progress, results in input order.

        The default window (4 x concurrency) keeps the request semaphore saturated while records
        ahead wait for a slow one; exceptions from `fn` propagate (handle per-item errors in `fn`).
        """
        window = window or max(4 * self.concurrency, 16)
        it = iter(items)
        pending: deque[asyncio.Future[R]] = deque()
        exhausted = False

        def fill() -> None:
            nonlocal exhausted
            while not exhausted and len(pending) < window:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    return
                pending.append(asyncio.ensure_future(fn(item)))

        fill()
        try:
            while pending:
                result = await pending[0]
                pending.popleft()
                fill()
                yield result
        finally:
            for fut in pending:
                fut.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


# ------------------------------------------------------------------------------ answer splitting
@dataclass(slots=True)
class Answer:
    """A choice as a record needs it. `truncated`: None, "answer" or "reasoning" (cut off while
    still thinking: the sample has no answer at all)."""

    content: str
    reasoning: str | None
    finish_reason: str | None
    truncated: str | None = None


def split_answer(choice: Choice, opts: ReadOptions = ReadOptions()) -> Answer:
    """Reasoning from `reasoning_content`, or from a leading think block in the content.

    Raises `RowError("unterminated_think")` when the content opens a think block that never
    closes although the model stopped normally (a broken answer, not a truncated one).
    """
    content, reasoning = choice.content or "", choice.reasoning
    length = choice.finish_reason == "length"
    if reasoning is None and opts.split_think:
        try:
            reasoning, content = split_think(content, opts, "answer")
        except RowError:
            if not length:
                raise
            # Cut off inside <think>: everything after the tag is partial reasoning.
            partial = content.lstrip()[len(opts.think_open):].strip("\n")
            return Answer("", partial, choice.finish_reason, truncated="reasoning")
    truncated = None
    if length:
        truncated = "reasoning" if reasoning is not None and not content.strip() else "answer"
    return Answer(content, reasoning, choice.finish_reason, truncated)
