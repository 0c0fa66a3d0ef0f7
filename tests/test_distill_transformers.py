"""The local transformers backend on the tiny offline model: batched generation through the chat
template, and `curate distill --backend transformers` end to end (with its cache)."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("transformers")

from tests.conftest import run_cli  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from trainer.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


def test_batched_generate_is_left_padded_and_deterministic(tiny):
    from curator.backends.base import GenerationRequest, SamplingParams
    from curator.backends.transformers_local import TransformersBackend

    backend = TransformersBackend(tiny, batch_size=4)
    assert backend.tokenizer.padding_side == "left"
    reqs = [GenerationRequest([{"role": "user", "content": t}], SamplingParams(max_tokens=6))
            for t in ("hi", "a much longer prompt than the first one", "你好")]

    async def go():
        try:
            return await asyncio.gather(*(backend.generate(r) for r in reqs))
        finally:
            await backend.aclose()

    first = asyncio.run(go())
    again = backend.generate_batch(reqs)
    assert [r.choices[0].content for r in first] == [r.choices[0].content for r in again]
    for r in first:
        assert r.usage.completion_tokens <= 6 and r.usage.prompt_tokens > 0
        assert r.choices[0].finish_reason in ("stop", "length")
    assert first[1].usage.prompt_tokens > first[0].usage.prompt_tokens  # padding is not counted


@pytest.mark.slow
def test_cli_with_the_local_backend_and_cache(tiny, tmp_path, sample):
    out = tmp_path / "o.jsonl"
    args = ["distill", str(sample / "prompts.jsonl"), "-o", str(out), "--backend", "transformers", "--model",
            str(tiny), "--max-tokens", "8", "--keep-truncated", "--no-progress"]
    cp = run_cli(*args)
    assert cp.returncode == 0, cp.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    manifest = json.loads((tmp_path / "o.manifest.json").read_text())
    assert manifest["counts"]["balanced"] and len(rows) == manifest["counts"]["out"] > 0
    for r in rows:
        g = r["meta"]["generation"]
        assert g["backend"] == "transformers" and g["params"] == {"max_tokens": 8}
        assert 0 < g["usage"]["completion_tokens"] <= 8
    first = out.read_bytes()
    cp = run_cli(*args)
    assert cp.returncode == 0, cp.stderr
    m2 = json.loads((tmp_path / "o.manifest.json").read_text())
    assert m2["generation"]["requests_sent"] == 0 and m2["generation"]["cache_hits"] == len(rows) + m2["counts"]["rejected"]
    assert out.read_bytes() == first
