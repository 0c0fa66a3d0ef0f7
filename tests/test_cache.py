"""The SQLite response cache: what the key depends on, and that answers survive a new connection."""

from __future__ import annotations

import sqlite3

from curator.backends.base import Choice, GenerationRequest, GenerationResult, SamplingParams, Usage
from curator.cache import ResponseCache, cache_key

IDENT = {"backend": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}


def _req(**kw) -> GenerationRequest:
    base = dict(messages=[{"role": "user", "content": "hi"}], params=SamplingParams(temperature=0.7))
    base.update(kw)
    return GenerationRequest(**base)


def test_key_depends_on_what_decides_the_answer_only():
    k = cache_key(IDENT, _req())
    assert k == cache_key(dict(IDENT), _req(tag="another caller label"))  # tags are not identity
    assert k != cache_key({**IDENT, "model": "m2"}, _req())
    assert k != cache_key({**IDENT, "base_url": "http://other/v1"}, _req())
    assert k != cache_key(IDENT, _req(messages=[{"role": "user", "content": "hi!"}]))
    assert k != cache_key(IDENT, _req(params=SamplingParams(temperature=0.8)))
    assert k != cache_key(IDENT, _req(params=SamplingParams(temperature=0.7, max_tokens=5)))
    assert k != cache_key(IDENT, _req(sample=1))
    assert len(k) == 64


def test_answers_persist_across_connections_and_files_hold_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secretsecretsecret")
    path = tmp_path / "c.sqlite"
    res = GenerationResult([Choice("answer", "thought", "stop")], Usage(3, 4), 0.25, "m")
    with ResponseCache(path) as c:
        assert c.get("k1") is None
        c.put("k1", res)
        assert len(c) == 1
    with ResponseCache(path) as c:  # a new process would see the same
        got = c.get("k1")
        assert got is not None and got.cached and c.hits == 1
        assert got.choices[0].content == "answer" and got.choices[0].reasoning == "thought"
        assert got.usage.completion_tokens == 4 and got.latency == 0.25
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    for f in tmp_path.iterdir():
        assert b"sk-secret" not in f.read_bytes()
