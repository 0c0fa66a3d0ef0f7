"""Embeddings from a local model folder, for users who have one (no download, ever).

Which library reads the folder is decided by what it contains:
- ``modules.json`` / ``config_sentence_transformers.json``: sentence-transformers;
- a model2vec static model (``config.json`` with ``"model_type": "model2vec"``): model2vec;
- any other transformers model (``config.json``): mean-pooled last hidden states via
  `transformers.AutoModel` (also how the tests exercise this path, on the tiny model).

All three are imported here, lazily: `import curator` never imports torch or transformers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from curator.embed import MAX_CHARS, normalise_rows
from curator.errors import UsageError


def folder_kind(path: Path) -> str:
    """sentence-transformers, model2vec or transformers; UsageError for a folder that is none of them."""
    if (path / "modules.json").is_file() or (path / "config_sentence_transformers.json").is_file():
        return "sentence-transformers"
    cfg = path / "config.json"
    if cfg.is_file():
        try:
            model_type = json.loads(cfg.read_text(encoding="utf-8")).get("model_type")
        except (OSError, ValueError):
            model_type = None
        return "model2vec" if model_type == "model2vec" else "transformers"
    raise UsageError(f"--embedder {path}: no modules.json or config.json there; give a sentence-transformers, "
                     f"model2vec or transformers model folder")


class LocalEmbedder:
    name = "local"

    def __init__(self, path: str | Path, *, batch_size: int = 64, max_tokens: int = 256):
        self.path = Path(path).resolve()
        self.kind = folder_kind(self.path)
        self.batch_size = max(int(batch_size), 1)
        self.max_tokens = max_tokens
        self._model: Any = None
        self._tok: Any = None

    def identity(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path), "max_tokens": self.max_tokens}

    def _import_error(self, pkg: str) -> UsageError:
        return UsageError(f"--embedder {self.path} is a {self.kind} folder: install {pkg} "
                          f"(pip install {pkg}) to use it")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t[:MAX_CHARS] for t in texts]
        if self.kind == "sentence-transformers":
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise self._import_error("sentence-transformers") from None
            self._model = self._model or SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            return normalise_rows(self._model.encode(list(texts), batch_size=self.batch_size,
                                                     normalize_embeddings=True, convert_to_numpy=True))
        if self.kind == "model2vec":
            try:
                from model2vec import StaticModel
            except ImportError:
                raise self._import_error("model2vec") from None
            self._model = self._model or StaticModel.from_pretrained(str(self.path))
            return normalise_rows(self._model.encode(list(texts)))
        return self._mean_pooled(texts)

    def _mean_pooled(self, texts: list[str]) -> np.ndarray:
        """Mean of the last hidden states over real tokens (padding masked out), batched, no grad."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self._model is None:
            self._tok = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            if self._tok.pad_token is None:
                self._tok.pad_token = self._tok.eos_token
            self._model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), self.batch_size):
                enc = self._tok(texts[i: i + self.batch_size], return_tensors="pt", padding=True, truncation=True,
                                max_length=self.max_tokens)
                hidden = self._model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().numpy())
        return normalise_rows(np.concatenate(out) if out else np.zeros((0, 1), np.float32))


class WordLlamaEmbedder:
    """`wordllama`'s static token embeddings (weights ship in its wheel). Loaded with downloads
    disabled: its loader looks for the tokenizer in a folder name that does not match the one
    its wheel ships, so the package folder is passed as the cache folder, where the file is."""

    name = "wordllama"

    def __init__(self, dim: int = 256):
        try:
            import wordllama
        except ImportError:
            raise UsageError("--embedder wordllama: install it (pip install wordllama)") from None
        self.dim = dim
        self._model = wordllama.WordLlama.load(dim=dim, cache_dir=Path(wordllama.__file__).parent,
                                               disable_download=True)

    def identity(self) -> dict[str, Any]:
        return {"kind": "wordllama", "config": "l2_supercat", "dim": self.dim}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(np.asarray(self._model.embed([t[:MAX_CHARS] for t in texts], norm=True)))
