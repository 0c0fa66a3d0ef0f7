"""Generation backends behind one protocol (`curator.backends.base.Backend`).

- `openai_http.OpenAIHTTPBackend`: any OpenAI-compatible chat-completions server (vLLM, SGLang,
  Ollama, llama.cpp server, OpenAI, DeepSeek, Volcengine Ark) through the official `openai` client.
- `process_pool.ProcessPoolBackend`: the same HTTP backend run in N client processes
  (`--client-processes`), for windows of hundreds of requests where one process's CPU is the limit.
- `transformers_local.TransformersBackend`: a local Hugging Face model, batched `generate`
  (needs the `[train]` extra; torch is imported only when it is built).

`make_backend` picks one from command-line style arguments so `distill` and `bestofk` agree.
"""

from __future__ import annotations

from curator.backends.base import (Backend, BackendError, Choice, GenerationRequest, GenerationResult,
                                   SamplingParams, Usage)

__all__ = ["Backend", "BackendError", "Choice", "GenerationRequest", "GenerationResult", "SamplingParams", "Usage",
           "auto_client_processes", "make_backend"]


def auto_client_processes(concurrency: int, cpus: int | None = None) -> int:
    """One client process per 64 requests in flight from a window of 128 up, at most 4 and at most
    two per CPU. Below 128 one process keeps the window full (95% of the bound at 64 in
    bench/distill_bench.py). At 256 on 2 cores, medians over several runs: one process 74-78% of
    the bound, two 78-81%, four 77-81%; each event loop then holds a smaller burst of answers, and
    a machine with more cores gets that many more CPUs for the client."""
    import os

    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    if concurrency < 128:
        return 1
    return max(1, min(4, 2 * cpus, concurrency // 64))


def make_backend(backend: str, *, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = 120.0, concurrency: int = 64, batch_size: int = 16,
                 client_processes: int | None = 1) -> Backend:
    """Build a backend by name: "openai" (HTTP), "transformers" (local), or "auto".

    "auto" picks HTTP when a base URL is given or the model is not a local folder, and the local
    transformers backend when `model` is a folder on disk (the embedded default without a server).
    `client_processes` > 1 spreads the HTTP requests over that many client processes
    (`process_pool.ProcessPoolBackend`); answers, cache keys and output are the same. None picks
    `auto_client_processes(concurrency)`.
    """
    from pathlib import Path

    from curator.errors import UsageError

    if backend == "auto":
        backend = "openai" if base_url or not Path(model).is_dir() else "transformers"
    if client_processes is None:
        client_processes = auto_client_processes(concurrency) if backend == "openai" else 1
    if client_processes < 1:
        raise UsageError("--client-processes must be >= 1")
    if client_processes > 1 and backend != "openai":
        raise UsageError("--client-processes applies to the HTTP backend (--base-url or --backend openai); "
                         "the local transformers backend runs in this process")
    if backend == "openai" and client_processes > 1:
        from curator.backends.process_pool import ProcessPoolBackend

        return ProcessPoolBackend(model=model, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
                                  max_connections=concurrency, processes=client_processes)
    if backend == "openai":
        from curator.backends.openai_http import OpenAIHTTPBackend

        return OpenAIHTTPBackend(model=model, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
                                 max_connections=concurrency)
    if backend == "transformers":
        from curator.hub import check_model

        check_model(model)  # a missing folder or unreachable hub id: one line at once, before torch loads
        try:
            from curator.backends.transformers_local import TransformersBackend

            import torch  # noqa: F401
        except ImportError:
            raise UsageError("--backend transformers needs the [train] extra: pip install 'sft-curator[train]'") from None
        try:
            return TransformersBackend(model, batch_size=batch_size)
        except OSError as e:  # transformers' own "not found / cannot connect" errors, as one line
            raise UsageError(f"--model {model}: cannot load ({str(e).splitlines()[0]})") from None
    raise UsageError(f"--backend {backend!r}: choose auto, openai or transformers")
