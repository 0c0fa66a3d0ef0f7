"""Fail fast, in one line, when a model id cannot be reached.

`from_pretrained("Qwen/Qwen2.5-7B-Instruct")` on a machine without the hub retries for about a
minute before a long traceback. Before any load we check: a local folder is used as is; a hub
id already in the local Hugging Face cache is loaded offline (HF_HUB_OFFLINE=1 for this
process, no retries); otherwise one short TCP probe of the endpoint (HF_ENDPOINT, default
huggingface.co) decides, and an unreachable hub is a usage error naming the ways out: a mirror
(HF_ENDPOINT), ModelScope, a local folder, or HF_HUB_OFFLINE with a filled cache.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

from curator.errors import UsageError

PROBE_TIMEOUT_S = 3.0


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    u = urlparse(url)
    host, port = u.hostname or "", u.port or (443 if u.scheme == "https" else 80)
    ok: list[bool] = []

    def probe() -> None:  # in a thread: name resolution has no timeout of its own
        try:
            with socket.create_connection((host, port), timeout=timeout):
                ok.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(ok)


def _cached(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - comes with transformers
        return False
    try:
        hit = try_to_load_from_cache(repo_id, "config.json")
        hit = hit or try_to_load_from_cache(repo_id, "tokenizer_config.json")
    except Exception:  # an id that is not a valid repo name: from_pretrained will say so
        return False
    return isinstance(hit, str)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def check_model(ref: str | os.PathLike[str], what: str = "--model") -> None:
    """Raise UsageError (one line) when `ref` is neither a local folder nor loadable from the hub."""
    ref = str(ref)
    if Path(ref).expanduser().exists():
        return
    if ref.startswith((".", "/", "~")) or ref.count("/") > 1:
        raise UsageError(f"{what} {ref}: no such folder (a local model folder, or a hub id such as Qwen/Qwen2.5-7B-Instruct)")
    if _cached(ref):
        os.environ["HF_HUB_OFFLINE"] = "1"  # in the cache: load it without touching the network
        return
    if _offline():
        raise UsageError(f"{what} {ref}: not in the local Hugging Face cache and HF_HUB_OFFLINE is set — "
                         f"download it first or pass a local model folder")
    if not _reachable(endpoint()):
        raise UsageError(f"{what} {ref}: the model hub {endpoint()} is unreachable — set HF_ENDPOINT to a mirror "
                         f"(e.g. https://hf-mirror.com), download it with `modelscope download --model {ref} "
                         f"--local_dir DIR` or `huggingface-cli download {ref} --local-dir DIR` and pass DIR, or set "
                         f"HF_HUB_OFFLINE=1 to use models already in the cache")
