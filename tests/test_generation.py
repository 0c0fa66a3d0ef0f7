"""The generator against the real loopback server: retries, give-ups, continuous concurrency,
ordered output, cache hits; and how a choice is split into reasoning and answer."""

from __future__ import annotations

import asyncio

import pytest

from curator.backends.base import Choice, GenerationRequest, SamplingParams
from curator.backends.openai_http import OpenAIHTTPBackend
from curator.cache import ResponseCache
from curator.errors import RowError
from curator.generation import Generator, GenerationFailed, RetryPolicy, split_answer
from tests.chat_server import ChatServer, answer_text


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s


def _generator(server, **kw) -> Generator:
    backend = OpenAIHTTPBackend("teacher", server.url, api_key_env="CURATOR_TEST_NO_SUCH_KEY")
    kw.setdefault("retry", RetryPolicy(max_retries=3, base=0.01, cap=0.05))
    return Generator(backend, **kw)


def _req(text: str) -> GenerationRequest:
    return GenerationRequest([{"role": "user", "content": text}])


def _run(coro):
    return asyncio.run(coro)


def test_retries_honour_retry_after_then_succeed(server):
    async def go():
        e = _generator(server)
        res = await e.call(_req("hello [[429x2:0.05]]"))
        await e.backend.aclose()
        return e, res

    e, res = _run(go())
    assert res.choices[0].content == "Answer to turn 1: hello"
    assert server.by_outcome["429"] == 2 and server.requests == 3
    assert e.stats.retries == 2 and e.stats.failures == 0


@pytest.mark.parametrize("directive,code,tries", [("[[500]]", "server_error", 4), ("[[badjson]]", "malformed_response", 4),
                                                  ("[[drop]]", "connection_error", 4), ("[[nochoices]]", "malformed_response", 4),
                                                  ("[[400]]", "api_error", 1)])
def test_gives_up_with_the_last_error(server, directive, code, tries):
    async def go():
        e = _generator(server)
        try:
            with pytest.raises(GenerationFailed) as info:
                await e.call(_req(f"x {directive}"))
        finally:
            await e.backend.aclose()
        return info.value

    err = _run(go())
    assert err.error.code == code and err.attempts == tries
    assert server.requests == tries  # 4xx other than 429 are not retried


def test_window_is_refilled_continuously_and_output_keeps_input_order(server):
    # The first prompt is slow: a batch-by-batch client would idle the rest of the window
    # behind it; a continuous one keeps `concurrency` requests in flight meanwhile.
    server.latency = 0.02
    prompts = ["first [[slow:0.6]]"] + [f"p{i}" for i in range(60)]

    async def go():
        e = _generator(server, concurrency=8)

        async def one(text):
            return (await e.call(_req(text))).choices[0].content

        out = [x async for x in e.map_ordered(prompts, one)]
        await e.backend.aclose()
        return out

    out = _run(go())
    assert out == [answer_text([{"role": "user", "content": p}]) for p in prompts]
    assert server.max_in_flight == 8
    assert server.requests == 61


def test_cache_hit_sends_nothing(server, tmp_path):
    async def go():
        with ResponseCache(tmp_path / "c.sqlite") as cache:
            e = _generator(server, cache=cache)
            a = await e.call(_req("cache me"))
            b = await e.call(_req("cache me"))
            c = await e.call(GenerationRequest([{"role": "user", "content": "cache me"}], SamplingParams(seed=1)))
            await e.backend.aclose()
            return e, a, b, c

    e, a, b, c = _run(go())
    assert not a.cached and b.cached and not c.cached
    assert b.choices[0].content == a.choices[0].content
    assert server.requests == 2 and e.stats.cache_hits == 1


def test_split_answer_reads_field_tags_and_truncation():
    a = split_answer(Choice("42", "six times seven", "stop"))
    assert (a.reasoning, a.content, a.truncated) == ("six times seven", "42", None)
    a = split_answer(Choice("<think>\nsix times seven\n</think>\n\n42", None, "stop"))
    assert (a.reasoning, a.content, a.truncated) == ("six times seven", "42", None)
    a = split_answer(Choice("", "six times", "length"))
    assert a.truncated == "reasoning" and a.content == ""
    a = split_answer(Choice("<think>\nsix times", None, "length"))
    assert (a.truncated, a.reasoning, a.content) == ("reasoning", "six times", "")
    a = split_answer(Choice("<think>\nok\n</think>\n\nforty", None, "length"))
    assert (a.truncated, a.reasoning, a.content) == ("answer", "ok", "forty")
    with pytest.raises(RowError) as info:
        split_answer(Choice("<think>\nnever closed", None, "stop"))
    assert info.value.code == "unterminated_think"
