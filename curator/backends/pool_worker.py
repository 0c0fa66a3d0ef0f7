"""A client process of `ProcessPoolBackend`: one `OpenAIHTTPBackend`, driven over stdin/stdout.

    python -m curator.backends.pool_worker --model M [--base-url U] [--api-key-env NAME]
                                           [--timeout S] [--max-connections N]

The parent writes one JSON line per try on our stdin, ``{"id": 7, "messages": [...], "params":
{...}, "sample": 0}``; we answer each, in whatever order they finish, with ``{"id": 7, "result":
{...}}`` (`GenerationResult.to_dict`) or ``{"id": 7, "error": {code, message, retryable,
retry_after, status}}``. The first line we write is ``{"ready": true, "identity": {...}}`` once
the client is built: the parent uses that identity for cache keys.

The API key is read from the environment variable named by ``--api-key-env``, which this process
inherits: it never appears on a command line, in a pipe or on disk.

EOF on stdin means the parent is done (or gone, even by ``kill -9``): in-flight tries are abandoned
and the process exits. SIGINT is ignored so a Ctrl-C in the terminal reaches only the parent, which
owns the run and closes our stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import traceback
from typing import Any

import orjson

from curator.backends.base import BackendError, GenerationRequest, SamplingParams
from curator.gc_tuning import throughput_gc

# A line carries a whole conversation (requests) or n answers with reasoning (replies).
LINE_LIMIT = 256 * 1024 * 1024


def request_from_json(msg: dict[str, Any]) -> GenerationRequest:
    params = dict(msg.get("params") or {})
    if params.get("stop") is not None:
        params["stop"] = tuple(params["stop"])
    return GenerationRequest(messages=msg["messages"], params=SamplingParams(**params), sample=msg.get("sample", 0))


def error_to_json(e: BackendError) -> dict[str, Any]:
    return {"code": e.code, "message": e.message, "retryable": e.retryable, "retry_after": e.retry_after,
            "status": e.status}


async def serve(args: argparse.Namespace, out_fd: int) -> None:
    from curator.backends.openai_http import OpenAIHTTPBackend

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    w_transport, w_protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                            os.fdopen(out_fd, "wb", buffering=0))
    writer = asyncio.StreamWriter(w_transport, w_protocol, None, loop)
    backend = OpenAIHTTPBackend(args.model, args.base_url, api_key_env=args.api_key_env, timeout=args.timeout,
                                max_connections=args.max_connections)
    ready = {"ready": True, "identity": backend.identity()}
    writer.write(orjson.dumps(ready) + b"\n")
    tasks: set[asyncio.Task[None]] = set()

    async def handle(msg: dict[str, Any]) -> None:
        rid = msg.get("id")
        try:
            result = await backend.generate(request_from_json(msg))
            reply: dict[str, Any] = {"id": rid, "result": result.to_dict()}
        except BackendError as e:
            reply = {"id": rid, "error": error_to_json(e)}
        except Exception as e:  # a bug, not the server's fault: the record is rejected with it, the run goes on
            traceback.print_exc(file=sys.stderr)
            reply = {"id": rid, "error": {"code": "client_error", "message": f"client process: {e!r}",
                                          "retryable": False, "retry_after": None, "status": None}}
        writer.write(orjson.dumps(reply) + b"\n")
        await writer.drain()

    try:
        with throughput_gc():  # after the client is built, so its import is frozen too
            while line := await reader.readline():
                task = asyncio.create_task(handle(orjson.loads(line)))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await backend.aclose()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="sft-curator HTTP client process (started by ProcessPoolBackend).")
    ap.add_argument("--model", required=True)
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--api-key-env", default="OPENAI_API_KEY")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--max-connections", type=int, default=64)
    args = ap.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    asyncio.run(serve(args, out_fd))


if __name__ == "__main__":
    main()
