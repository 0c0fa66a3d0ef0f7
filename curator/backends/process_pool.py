"""The HTTP backend spread over N client processes (`--client-processes N`).

Why: the official `openai` client spends ~0.7 ms of CPU per request (building the request through
httpx's models, the transport, the reply). One Python process therefore tops out near 1,000-1,300
requests/s however large `--concurrency` is, and at a window of 256 its single event loop is busy
enough that answers queue behind each other. Each worker process here owns an `OpenAIHTTPBackend`
with its own connection pool; this process keeps everything else — the window, retries, the cache,
ordering, progress — so the engine and the output are exactly what one process gives.

A try crosses a pipe as one JSON line each way (`curator.backends.pool_worker`), ~30 µs of CPU
here against the ~700 µs it takes off this process. Tries go to the worker with the fewest in
flight. A worker that dies fails its in-flight tries as retryable `connection_error`s (the engine
retries them on the others) and is restarted, at most `MAX_RESTARTS` times over the run.

Building the backend starts every worker at once and waits until each has said it is ready
(about half a second: each imports the client), so a worker that cannot start is a usage error
before any record is read, and the timing of a run starts with clients that can send.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from curator.backends.base import BackendError, GenerationRequest, GenerationResult, fatal, retryable
from curator.backends.pool_worker import LINE_LIMIT
from curator.errors import UsageError

MAX_RESTARTS = 3
READY_TIMEOUT = 120.0  # seconds a worker may take to import the client and start


@dataclass
class _Worker:
    index: int
    proc: subprocess.Popen
    identity: dict[str, Any]
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    writer: asyncio.WriteTransport | None = None
    reader_task: asyncio.Task | None = None
    alive: bool = True


def _read_ready_line(proc: subprocess.Popen, timeout: float) -> dict[str, Any]:
    """The worker's first line, read from the raw fd so nothing is left in a Python-side buffer
    when the pipe is handed to the event loop."""
    import selectors

    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                proc.kill()
                raise UsageError(f"client process {proc.pid} did not start within {timeout:g}s")
            chunk = os.read(fd, 65536)
            if not chunk:
                code = proc.wait()
                raise UsageError(f"client process exited with code {code} before it was ready "
                                 f"(its error is printed above)")
            buf += chunk
    return orjson.loads(buf)


class ProcessPoolBackend:
    """`OpenAIHTTPBackend` tries run in `processes` worker processes; same identity, same results."""

    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = 120.0, max_connections: int = 64, processes: int = 2):
        from curator.backends.openai_http import resolve_api_key

        if processes < 1:
            raise UsageError("--client-processes must be >= 1")
        resolve_api_key(api_key_env, base_url)  # fail here, with the usual message, not in N workers
        self.model = model
        self.processes = processes
        per_worker = -(-max(int(max_connections), 1) // processes)
        self._argv = [sys.executable, "-m", "curator.backends.pool_worker", "--model", model,
                      "--api-key-env", api_key_env, "--timeout", repr(float(timeout)),
                      "--max-connections", str(per_worker)]
        if base_url is not None:
            self._argv += ["--base-url", base_url]
        self._ids = itertools.count()
        self._restarts = 0
        self._closing = False
        self._attaching: asyncio.Future | None = None
        # Start them all before waiting on any, so they import in parallel.
        procs = [self._popen() for _ in range(processes)]
        try:
            self._workers = [_Worker(i, p, _read_ready_line(p, READY_TIMEOUT)["identity"]) for i, p in enumerate(procs)]
        except BaseException:
            for p in procs:
                p.kill()
            raise
        self._identity = self._workers[0].identity

    def _popen(self) -> subprocess.Popen:
        return subprocess.Popen(self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)

    def worker_pids(self) -> list[int]:
        """The client processes' pids, in worker order (for monitoring, and for tests that kill one)."""
        return [w.proc.pid for w in self._workers]

    @property
    def restarts(self) -> int:
        """How many dead client processes were replaced so far."""
        return self._restarts

    def identity(self) -> dict[str, Any]:
        # The workers' own `OpenAIHTTPBackend.identity()`: cache keys match a one-process run.
        return self._identity

    # ----------------------------------------------------------------------------- plumbing
    async def _attach(self, w: _Worker) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=LINE_LIMIT)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), w.proc.stdout)
        w.writer, _ = await loop.connect_write_pipe(asyncio.Protocol, w.proc.stdin)
        w.reader_task = asyncio.create_task(self._read(w, reader))

    async def _ensure_attached(self) -> None:
        # One task attaches every pipe; the first window of requests all wait on it.
        if self._attaching is None:
            self._attaching = asyncio.ensure_future(asyncio.gather(*(self._attach(w) for w in self._workers)))
        if not self._attaching.done():
            await asyncio.shield(self._attaching)

    async def _read(self, w: _Worker, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                msg = orjson.loads(line)
                fut = w.pending.pop(msg.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        finally:
            w.alive = False
            code = w.proc.poll()
            if code is None:
                await asyncio.sleep(0.05)
                code = w.proc.poll()
            err = retryable("connection_error", f"client process {w.index} (pid {w.proc.pid}) exited"
                                                f"{'' if code is None else f' with code {code}'} during the request")
            for fut in w.pending.values():
                if not fut.done():
                    fut.set_exception(err)
            w.pending.clear()
            if not self._closing and self._restarts < MAX_RESTARTS:
                self._restarts += 1
                await self._respawn(w.index)

    async def _respawn(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        proc = await loop.run_in_executor(None, self._popen)
        try:
            ready = await loop.run_in_executor(None, _read_ready_line, proc, READY_TIMEOUT)
        except UsageError as e:
            print(f"sft-curator: could not restart client process {index}: {e}", file=sys.stderr)
            return
        w = _Worker(index, proc, ready["identity"])
        self._workers[index] = w
        await self._attach(w)

    # ------------------------------------------------------------------------------ backend
    async def generate(self, request: GenerationRequest) -> GenerationResult:
        await self._ensure_attached()
        live = [w for w in self._workers if w.alive]
        if not live:
            raise fatal("client_error", "every client process has exited (their errors are printed above)")
        w = min(live, key=lambda w: len(w.pending))
        rid = next(self._ids)
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        w.pending[rid] = fut
        line = {"id": rid, "messages": request.messages, "params": request.params.to_dict(), "sample": request.sample}
        try:
            data = orjson.dumps(line)
        except TypeError:  # what orjson refuses (an integer beyond 64 bits in a tool call) json still writes
            data = json.dumps(line, ensure_ascii=False).encode()
        w.writer.write(data + b"\n")
        try:
            msg = await fut
        finally:
            w.pending.pop(rid, None)  # cancelled (Ctrl-C): the worker's answer will be dropped
        if "error" in msg:
            e = msg["error"]
            raise BackendError(e["code"], e["message"], retryable=e["retryable"], retry_after=e.get("retry_after"),
                               status=e.get("status"))
        return GenerationResult.from_dict(msg["result"])

    async def aclose(self) -> None:
        """Close every worker's stdin (it exits on EOF); kill one that does not go in 5 s."""
        self._closing = True
        for w in self._workers:
            if w.writer is not None:
                w.writer.close()
            elif w.proc.stdin is not None:
                w.proc.stdin.close()
        loop = asyncio.get_running_loop()
        for w in self._workers:
            try:
                await loop.run_in_executor(None, w.proc.wait, 5)
            except subprocess.TimeoutExpired:
                w.proc.kill()
            if w.reader_task is not None:
                await asyncio.gather(w.reader_task, return_exceptions=True)
