"""OpenAI-compatible chat completions over HTTP with the official `openai` client.

Works unchanged against vLLM, SGLang, Ollama, llama.cpp server, OpenAI, DeepSeek and Volcengine
Ark: only `--base-url`, `--model` and the name of the environment variable holding the key change.

The client's own retries are off (`max_retries=0`): the engine retries every backend the same way,
counts the retries for the progress line and sends the record to the rejects with the last error.
One try here maps every failure onto a `BackendError` with a code; nothing escapes as a crash.

Reasoning models return their chain of thought in a `reasoning_content` field (DeepSeek, Ark,
vLLM's reasoning parsers; some servers call it `reasoning`). It is not in the client's typed
`ChatCompletionMessage` (which keeps it only as a pydantic extra, `message.model_extra`); since
the reply is read as plain JSON here (see `generate`), it is simply a key of the message.
"""

from __future__ import annotations

import email.utils
import os
import time
from typing import Any

from curator.backends.base import (BackendError, Choice, GenerationRequest, GenerationResult, Usage, fatal,
                                   retryable)
from curator.errors import UsageError

# Keys a local server ignores; sent so the client does not refuse to start without one.
DUMMY_KEY = "EMPTY"


def _retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` / `retry-after` (a number or an HTTP date), or None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(float(ra), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(ra) if ra else None
        if parsed is None:
            return None
        return max(parsed.timestamp() - time.time(), 0.0)


def resolve_api_key(api_key_env: str, base_url: str | None) -> str:
    """The key from the environment; a dummy one for a local server; UsageError for OpenAI without one."""
    key = os.environ.get(api_key_env)
    if key:
        return key
    if base_url is None:
        raise UsageError(f"no API key: set the {api_key_env} environment variable (or pass --api-key-env "
                         f"NAME), or point --base-url at a local server")
    return DUMMY_KEY  # vLLM/Ollama/llama.cpp accept any key


def _short(body: Any, limit: int = 300) -> str:
    text = body if isinstance(body, str) else repr(body)
    return text if len(text) <= limit else text[:limit] + "…"


class OpenAIHTTPBackend:
    """One `AsyncOpenAI` client; `generate` is one try of one chat-completions call."""

    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = 120.0, max_connections: int = 64):
        import openai

        key = resolve_api_key(api_key_env, base_url)
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        # Keep-alive pool as large as the in-flight window: with the client's default of 100
        # idle connections, a window of 256 would reconnect on most requests. The aiohttp
        # transport (the client's own `openai[aiohttp]` option) costs a fraction of httpx's CPU
        # per request — httpx's pool rescans every idle connection per request — which is what
        # caps a 2-core machine well below 1,000 requests/s; httpx is the fallback.
        try:
            import aiohttp  # noqa: F401

            http_client = openai.DefaultAioHttpClient(limits=_limits(max_connections), timeout=timeout)
            self.transport = "aiohttp"
        except ImportError:
            http_client = openai.DefaultAsyncHttpxClient(limits=_limits(max_connections), timeout=timeout)
            self.transport = "httpx"
        self._client = openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=timeout,
                                          http_client=http_client)
        self._openai = openai

    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "base_url": str(self._client.base_url).rstrip("/"), "model": self.model}

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        t0 = time.perf_counter()
        body = {"model": self.model, "messages": request.messages, **request.params.to_dict()}
        resp = await self.post_json("/chat/completions", body)
        latency = time.perf_counter() - t0
        return _parse(resp, latency, self.model)

    async def post_json(self, path: str, body: dict[str, Any]) -> Any:
        """One POST, its JSON reply decoded; every failure mapped onto a `BackendError` with a code.
        Shared by chat completions and `/embeddings` (curator.embed_http)."""
        oa = self._openai
        t0 = time.perf_counter()
        try:
            # `post` is the client's own request path (auth, headers, errors, timeouts) minus two
            # costs that capped throughput on small machines: `create`'s recursive TypedDict
            # transform of the body and the pydantic construction of the reply (~1 ms of CPU per
            # request together). `cast_to=object` returns the decoded JSON.
            return await self._client.post(path, body=body, cast_to=object)
        except oa.APITimeoutError as e:  # before APIConnectionError: it is a subclass
            elapsed = time.perf_counter() - t0
            if elapsed < 0.9 * self.timeout:
                # The aiohttp transport reports a server that hung up as a timeout.
                raise retryable("connection_error", f"the server closed the connection after {elapsed:.2f}s "
                                                    f"without an answer") from None
            raise retryable("timeout", f"no answer within {self.timeout:g}s ({e})") from None
        except oa.APIConnectionError as e:
            cause = e.__cause__ or e.__context__
            raise retryable("connection_error", f"connection failed: {cause or e}") from None
        except oa.APIResponseValidationError as e:
            raise retryable("malformed_response", f"response did not match the expected schema: "
                                                  f"{_short(e.body)}") from None
        except oa.APIStatusError as e:
            status = e.status_code
            detail = f"HTTP {status}: {_short(e.body if e.body is not None else e.message)}"
            if status == 429:
                raise retryable("rate_limited", detail, retry_after=_retry_after(e.response.headers),
                                status=status) from None
            if status >= 500 or status in (408, 409):
                raise retryable("server_error", detail, retry_after=_retry_after(e.response.headers),
                                status=status) from None
            raise fatal("api_error", detail, status=status) from None
        except (ValueError, TypeError, KeyError) as e:  # a body that is not JSON, or JSON of the wrong shape
            raise retryable("malformed_response", f"unreadable response body: {_short(str(e))}") from None
        except oa.OpenAIError as e:
            raise retryable("api_error", str(e)) from None

    async def aclose(self) -> None:
        await self._client.close()


def _limits(max_connections: int) -> Any:
    import httpx2

    n = max(int(max_connections), 1)
    return httpx2.Limits(max_connections=max(n, 100), max_keepalive_connections=n)


def _parse(resp: Any, latency: float, model: str) -> GenerationResult:
    """Chat-completion JSON -> GenerationResult; a body of the wrong shape is `malformed_response`."""
    if not isinstance(resp, dict):
        raise retryable("malformed_response", f"response is not a JSON object: {_short(resp)}")
    choices_in = resp.get("choices")
    if not isinstance(choices_in, list) or not choices_in:
        raise retryable("malformed_response", f"response has no choices: {_short(resp)}")
    choices: list[Choice] = []
    for i, c in enumerate(sorted(choices_in, key=lambda c: (c.get("index") or 0) if isinstance(c, dict) else 0)):
        msg = c.get("message") if isinstance(c, dict) else None
        if not isinstance(msg, dict):
            raise retryable("malformed_response", f"choices[{i}] has no message: {_short(c)}")
        reasoning = msg.get("reasoning_content")
        if reasoning is None:
            reasoning = msg.get("reasoning")  # vLLM >= 0.10 and OpenRouter spell it this way
        content = msg.get("content")
        if (content is not None and not isinstance(content, str)) or (
                reasoning is not None and not isinstance(reasoning, str)):
            raise retryable("malformed_response", f"choices[{i}].message content/reasoning is not text")
        choices.append(Choice(content or "", reasoning or None, c.get("finish_reason")))
    u = resp.get("usage") if isinstance(resp.get("usage"), dict) else {}
    usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
    return GenerationResult(choices=choices, usage=usage, latency=round(latency, 4),
                            model=str(resp.get("model") or model))
