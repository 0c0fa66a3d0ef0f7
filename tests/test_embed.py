"""Embeddings: the lexical default (offline, Chinese + English), the float16 store as a cache, the
/v1/embeddings backend against a real loopback server, and a local model folder (the tiny model)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curator.embed import LexicalEmbedder
from curator.embedders import make_embedder
from curator.embed_store import embed_texts, load_store, save_store, store_paths
from curator.errors import UsageError
from tests.chat_server import ChatServer, embedding_vector
from tests.conftest import run_cli


def _knn_accuracy(x: np.ndarray, labels: list, k: int = 5) -> float:
    y = np.asarray(labels)
    s = x @ x.T
    np.fill_diagonal(s, -9)
    nn = np.argsort(-s, axis=1)[:, :k]
    hits = 0
    for i in range(len(y)):
        vals, counts = np.unique(y[nn[i]], return_counts=True)
        hits += vals[counts.argmax()] == y[i]
    return hits / len(y)


def test_lexical_rows_are_unit_deterministic_and_see_shared_ngrams():
    texts = ["如何学习机器学习？", "怎样学习机器学习", "今天北京天气怎么样", "How do I learn machine learning?",
             "how to learn machine learning", "What is the weather in Beijing today", ""]
    a = LexicalEmbedder().embed(texts)
    b = LexicalEmbedder().embed(texts)
    assert a.dtype == np.float32 and a.shape == (7, 256)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a[:6], axis=1), 1.0, atol=1e-5)
    assert not a[6].any()  # an empty text is a zero row, not NaN
    s = a @ a.T
    # paraphrases share n-grams: each is nearer its paraphrase than the unrelated text, in both scripts
    assert s[0, 1] > s[0, 2] and s[3, 4] > s[3, 5]


def test_lexical_separates_real_topics(real):
    """Labelled real data: Chinese vs English alpaca, and which file a prompt came from."""
    from curator.io import read_records
    from curator.rejects import RejectSink

    def prompts(name: str, n: int) -> list[str]:
        return [c.prompt_text() for c in read_records(real / name, rejects=RejectSink(None))][:n]

    zh, en = prompts("alpaca_zh_demo.json", 500), prompts("alpaca_en_demo.json", 500)  # >= CENTER_MIN
    x = LexicalEmbedder().embed(zh + en)
    assert _knn_accuracy(x, [0] * len(zh) + [1] * len(en)) > 0.85
    sources = ["gsm8k_train_alpaca.json", "gpteacher_roleplay.json", "glaive_toolcall_zh_demo.json",
               "alpaca_en_demo.json"]
    texts, labels = [], []
    for s in sources:
        p = prompts(s, 150)
        texts += p
        labels += [s] * len(p)
    chance = 1 / len(sources)
    assert _knn_accuracy(LexicalEmbedder().embed(texts), labels) > 2 * chance


def test_store_is_a_content_hash_cache(tmp_path):
    emb = make_embedder("lexical", dim=64)
    texts = ["alpha beta", "gamma delta", "alpha beta", "你好世界"]
    stats: dict = {}
    x, keys = embed_texts(texts, emb, cache=tmp_path / "o.jsonl", stats=stats)
    assert stats == {"reused": 0, "embedded": 3}  # the repeated text is embedded once
    assert np.array_equal(x[0], x[2])
    save_store(tmp_path / "o.jsonl", x, keys, emb.identity(), ids=["a", "b", "c", "d"])
    npy, js = store_paths(tmp_path / "o.jsonl")
    assert npy.name == "o.embeddings.npy" and js.name == "o.embeddings.json"
    vecs, index = load_store(tmp_path / "o.jsonl")
    assert vecs.dtype == np.float16 and isinstance(vecs, np.memmap) and index["ids"] == ["a", "b", "c", "d"]
    stats2: dict = {}
    y, _ = embed_texts(texts, make_embedder("lexical", dim=64), cache=tmp_path / "o.jsonl", stats=stats2)
    assert stats2 == {"reused": 4, "embedded": 0}
    assert np.abs(x - y).max() < 2e-3  # float16 storage
    # another corpus changes lexical IDF: nothing reused; a corrupt index is ignored, not a crash
    stats3: dict = {}
    embed_texts(texts + ["new"], make_embedder("lexical", dim=64), cache=tmp_path / "o.jsonl", stats=stats3)
    assert stats3["reused"] == 0
    js.write_text("{not json")
    assert load_store(tmp_path / "o.jsonl") is None


def test_http_embedder_against_a_loopback_server(tmp_path):
    with ChatServer() as srv:
        emb = make_embedder("http:emb-model", base_url=srv.url, batch_size=2)
        texts = ["abc", "abd", "xyz[[500x1]]", "你好"]
        stats: dict = {}
        x, _ = embed_texts(texts, emb, cache=tmp_path / "o.jsonl", stats=stats)
        expect = np.asarray([embedding_vector(t) for t in texts], dtype=np.float32)
        expect /= np.linalg.norm(expect, axis=1, keepdims=True)
        assert np.allclose(x, expect, atol=1e-6)
        assert srv.by_outcome["embeddings:500"] == 1 and emb.retries == 1  # retried like distill
        assert emb.identity() == {"kind": "http", "base_url": srv.url, "model": "emb-model"}
        save_store(tmp_path / "o.jsonl", x, _, emb.identity())
        sent = emb.requests
        embed_texts(texts, emb, cache=tmp_path / "o.jsonl")
        assert emb.requests == sent  # all four came from the store
        with pytest.raises(UsageError, match="api_error"):
            make_embedder("http:emb-model", base_url=srv.url).embed(["bad [[400]]"])


def test_http_embedder_keeps_the_key_out_of_the_identity(monkeypatch):
    monkeypatch.setenv("EMB_KEY", "sk-secret-value")
    emb = make_embedder("http:m", base_url="http://127.0.0.1:9/v1", api_key_env="EMB_KEY")
    assert "sk-secret" not in json.dumps(emb.identity())
    emb = make_embedder("http:m", base_url="https://user:pw-secret@emb.example:8443/v1?api-key=qsecret")
    assert emb.identity()["base_url"] == "https://emb.example:8443/v1"


def test_local_folder_embedder_on_the_tiny_model(tmp_path):
    pytest.importorskip("transformers")
    from trainer.tiny import build_tiny_model

    path = build_tiny_model(tmp_path / "tiny")
    emb = make_embedder(str(path), batch_size=2)
    x = emb.embed(["hello world", "你好", "hello world"])
    assert x.shape[0] == 3 and np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert np.allclose(x[0], x[2], atol=1e-5)
    assert emb.identity()["kind"] == "transformers"


def test_unknown_embedder_is_a_usage_error():
    with pytest.raises(UsageError, match="--embedder"):
        make_embedder("no-such-thing")


def test_select_cli_with_the_http_embedder(tmp_path, sample):
    with ChatServer() as srv:
        r = run_cli(
            "select", str(sample / "general.jsonl"), "-o", str(tmp_path / "s.jsonl"), "--budget", "3",
            "--embedder", "http:emb", "--embed-base-url", srv.url, "--embed-api-key-env", "NO_SUCH_KEY_VAR")
        assert r.returncode == 0, r.stderr
        assert srv.by_outcome["embeddings:ok"] >= 1
    m = json.loads((tmp_path / "s.manifest.json").read_text())
    assert m["select"]["embedder"] == {"kind": "http", "base_url": srv.url, "model": "emb"}
    assert m["counts"]["out"] == 3 and m["counts"]["balanced"]
