"""Pick an embedder by its command-line spelling (`--embedder`): lexical (the offline default),
wordllama, http:MODEL, or a local model folder.

Apart from `curator.embed` (the protocol and the lexical default) so that the backends in
`embed_http.py` and `embed_local.py` import the shared helpers from `embed` without `embed`
importing them back: one direction, no cycle.
"""

from __future__ import annotations

from curator.embed import DEFAULT_DIM, Embedder, LexicalEmbedder
from curator.errors import UsageError

EMBEDDER_HELP = ("Embeddings: lexical (default: offline, no download, Chinese and English), wordllama, "
                 "http:MODEL (an OpenAI-compatible /v1/embeddings server at --embed-base-url), "
                 "or a local model folder (sentence-transformers or model2vec).")


def make_embedder(spec: str = "lexical", *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                  dim: int = DEFAULT_DIM, batch_size: int = 64, concurrency: int = 8) -> Embedder:
    """An embedder from its command-line spelling (see EMBEDDER_HELP); UsageError when unknown."""
    from pathlib import Path

    if spec in ("", "lexical"):
        return LexicalEmbedder(dim=dim)
    if spec == "wordllama":
        from curator.embed_local import WordLlamaEmbedder

        return WordLlamaEmbedder()
    if spec.startswith("http:"):
        from curator.embed_http import HTTPEmbedder

        model = spec[len("http:"):]
        if not model:
            raise UsageError("--embedder http:MODEL: name the model, e.g. http:bge-m3")
        return HTTPEmbedder(model, base_url, api_key_env=api_key_env, batch_size=batch_size, concurrency=concurrency)
    if Path(spec).is_dir():
        from curator.embed_local import LocalEmbedder

        return LocalEmbedder(spec, batch_size=batch_size)
    raise UsageError(f"--embedder {spec!r}: not lexical, http:MODEL, or an existing model folder")
