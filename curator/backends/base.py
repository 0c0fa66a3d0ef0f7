"""The backend protocol and the data that crosses it.

A backend turns one `GenerationRequest` (canonical messages + sampling parameters) into one
`GenerationResult` (n choices, each with answer text, reasoning and finish reason; token usage;
latency). It raises `BackendError` for anything that went wrong, marked retryable or not, so the
engine (`curator.generation`) owns retries, caching, rate limits and concurrency for every backend
alike. Backends stay thin: one request, one try.

`identity()` names what determines an answer besides the request (backend kind, base URL, model);
the cache key hashes it together with the request. It never includes credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """Sampling parameters; None means "the server's default" and is not sent."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    n: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Only the parameters that are set (what is sent, what is recorded, what is hashed)."""
        # Spelled out rather than dataclasses.asdict: this runs twice per request.
        d: dict[str, Any] = {}
        if self.temperature is not None:
            d["temperature"] = self.temperature
        if self.top_p is not None:
            d["top_p"] = self.top_p
        if self.max_tokens is not None:
            d["max_tokens"] = self.max_tokens
        if self.stop is not None:
            d["stop"] = list(self.stop)
        if self.seed is not None:
            d["seed"] = self.seed
        if self.n != 1:
            d["n"] = self.n
        return d


@dataclass(slots=True)
class GenerationRequest:
    """One call. `messages` are canonical dicts (role, content[, name, tool_calls, tool_call_id]).

    `sample` is the sample index: two requests that differ only by it are different cache entries
    (best-of-K draws K samples of one prompt as K requests when a server ignores `n`).
    `tag` is the caller's label (record id, turn) for logs; it is not part of the cache key.
    """

    messages: list[dict[str, Any]]
    params: SamplingParams = field(default_factory=SamplingParams)
    sample: int = 0
    tag: str = ""

    def prompt_chars(self) -> int:
        return sum(len(m.get("content") or "") for m in self.messages)


@dataclass(slots=True)
class Choice:
    content: str
    reasoning: str | None = None
    finish_reason: str | None = None


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class GenerationResult:
    choices: list[Choice]
    usage: Usage = field(default_factory=Usage)
    latency: float = 0.0
    model: str = ""
    cached: bool = False  # set by the engine when the answer came from the cache

    def to_dict(self) -> dict[str, Any]:
        """The cacheable form (`cached` is a property of the lookup, not of the answer)."""
        return {
            "choices": [{"content": c.content, "reasoning": c.reasoning, "finish_reason": c.finish_reason}
                        for c in self.choices],
            "usage": {"prompt_tokens": self.usage.prompt_tokens, "completion_tokens": self.usage.completion_tokens},
            "latency": self.latency,
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, cached: bool = False) -> "GenerationResult":
        return cls(
            choices=[Choice(c["content"], c.get("reasoning"), c.get("finish_reason")) for c in d["choices"]],
            usage=Usage(**d.get("usage", {})),
            latency=d.get("latency", 0.0),
            model=d.get("model", ""),
            cached=cached,
        )


class BackendError(Exception):
    """A failed call. `code` becomes the reject reason when retries run out.

    Codes: rate_limited, server_error, timeout, connection_error, malformed_response (retryable);
    api_error (a 4xx the server will repeat: bad request, auth, unknown model — not retried).
    """

    def __init__(self, code: str, message: str, *, retryable: bool, retry_after: float | None = None,
                 status: int | None = None):
        from curator.redact import redact_text

        message = redact_text(message)  # servers echo keys and URLs in error bodies
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def retryable(code: str, message: str, **kw: Any) -> BackendError:
    return BackendError(code, message, retryable=True, **kw)


def fatal(code: str, message: str, **kw: Any) -> BackendError:
    return BackendError(code, message, retryable=False, **kw)


@runtime_checkable
class Backend(Protocol):
    """What the engine needs from a backend."""

    name: str

    def identity(self) -> dict[str, Any]:
        """What, besides the request, decides the answer (kind, base URL, model). No secrets."""
        ...

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """One try; raises `BackendError` on failure."""
        ...

    async def aclose(self) -> None:
        ...
