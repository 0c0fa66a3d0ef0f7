"""A real chat-completions server on 127.0.0.1 for tests and benches, with injectable faults.

The official `openai` client talks to it as to any server: ``POST /v1/chat/completions`` (with
``n`` choices, ``usage``, ``finish_reason``), ``POST /v1/embeddings`` and ``GET /v1/models``. Answers are deterministic
functions of the request, so outputs can be compared byte for byte across runs.

Faults are injected per prompt with directives in the LAST user message, so a test (or a
subprocess run of the CLI) can aim a fault at one record:

=====================  ======================================================================
``[[429]]``            HTTP 429 with ``Retry-After`` (``[[429x2]]``: only the first 2 tries;
                       ``[[429x2:0.3]]``: Retry-After 0.3 s; default 0.05 s)
``[[500]]``            HTTP 500 (``[[500x1]]`` once)
``[[drop]]``           the connection is closed without an answer (``[[dropx1]]`` once)
``[[badjson]]``        200 with a body that is not JSON (``[[badjsonx1]]`` once)
``[[nochoices]]``      200 with valid JSON but an empty ``choices`` list
``[[slow:S]]``         wait S seconds before answering
``[[length]]``         ``finish_reason: "length"``, answer cut short
``[[length_think]]``   ``finish_reason: "length"`` while still inside the reasoning
``[[reason]]``         answer with a ``reasoning_content`` field
``[[think]]``          answer with a ``<think>...</think>`` block inside the content
``[[400]]``            HTTP 400 (not retryable)
=====================  ======================================================================

Server-wide: ``latency`` (fixed seconds per request, the bench uses 0.2) and ``reasoning``
("field" or "tags": every answer carries reasoning). ``requests`` counts every request received;
``by_outcome`` counts them by what was sent back.

Standalone: ``python tests/chat_server.py --port 8001 --latency 0.2`` serves until killed.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_DIRECTIVE = re.compile(r"\[\[([a-z_]+|\d{3})(?:x(\d+))?(?::([0-9.]+))?\]\]")


def answer_text(messages: list[dict[str, Any]], index: int = 0) -> str:
    """The deterministic answer the server gives (tests compare against it)."""
    users = [m for m in messages if m.get("role") == "user"]
    last = str(users[-1].get("content", "")) if users else ""
    last = _DIRECTIVE.sub("", last).strip()
    suffix = f" (sample {index})" if index else ""
    return f"Answer to turn {len(users)}: {last[:120]}{suffix}"


def embedding_vector(text: str, dim: int = 16) -> list[float]:
    """The deterministic embedding the server returns for ``POST /v1/embeddings``: a bag of
    characters hashed into `dim` counts (texts sharing characters are similar)."""
    import zlib

    vec = [0.0] * dim
    for ch in _DIRECTIVE.sub("", text):
        vec[zlib.crc32(ch.encode("utf-8")) % dim] += 1.0
    return vec


def reasoning_text(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    last = _DIRECTIVE.sub("", str(users[-1].get("content", "")) if users else "").strip()
    return f"Let me think about: {last[:80]}. Step one, step two."


def demo_teacher(messages: list[dict[str, Any]], index: int = 0) -> str:
    """A stand-in teacher for the offline evaluation-loop demo (docs/eval.md): a `curate augment`
    request (its system prompt asks for a JSON array) gets K prompts made by shuffling the
    badcase's prompt; anything else gets the usual echo. Not a model — point the demo at a real
    teacher for real prompts."""
    import random as _random

    system = next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")
    if "JSON" not in system:
        return answer_text(messages, index)
    found = re.search(r"\d+", system)
    k = int(found.group(0)) if found else 3
    body = str(messages[-1].get("content", ""))
    original = body.split("\n\n")[0].split("\n", 1)[-1]
    zh = any("\u4e00" <= c <= "\u9fff" for c in original)
    out = []
    for i in range(k):
        chars = list(original)
        _random.Random(f"{original}{i}{index}").shuffle(chars)
        out.append((f"第{i + 1}种情形：" if zh else f"Case {i + 1}: ") + "".join(chars))
    return json.dumps(out, ensure_ascii=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a window of 256 connects at once must not overflow the backlog
    allow_reuse_address = True


class ChatServer:
    """Start with `start()` (or as a context manager); `url` is the base URL for `--base-url`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0,
                 reasoning: str | None = None, model: str = "test-model", responder: Any = None):
        self.latency = latency
        self.responder = responder  # optional (messages, index) -> answer text, instead of the echo
        self.reasoning = reasoning
        self.model = model
        self.requests = 0
        self.by_outcome: Counter[str] = Counter()
        self.prompts: Counter[str] = Counter()  # last user message -> requests received for it
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests being served at once (continuous concurrency)
        self.last_bodies: list[dict[str, Any]] = []  # the last 50 request bodies, for assertions
        self._tries: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), _make_handler(self))
        self.port = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/v1"
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "ChatServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "ChatServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_outcome.clear()
            self.prompts.clear()
            self.max_in_flight = 0
            self.last_bodies.clear()

    # -- behaviour ---------------------------------------------------------------------------
    def _plan(self, body: dict[str, Any]) -> tuple[str, float | None]:
        """Which outcome this request gets: the first directive still active for its prompt."""
        messages = body.get("messages") or []
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        last = str(users[-1].get("content", "")) if users else ""
        with self._lock:
            self.requests += 1
            self.prompts[last] += 1
            self.last_bodies = (self.last_bodies + [body])[-50:]
            for kind, times, arg in _DIRECTIVE.findall(last):
                if times:
                    key = (kind + times, last)
                    self._tries[key] += 1
                    if self._tries[key] > int(times):
                        continue
                return kind, float(arg) if arg else None
        return "ok", None

    def completion(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        messages = body.get("messages") or []
        n = int(body.get("n") or 1)
        reasoning_mode = {"reason": "field", "think": "tags"}.get(kind, self.reasoning)
        choices = []
        for i in range(n):
            content: str | None = (self.responder or answer_text)(messages, i)
            reasoning = reasoning_text(messages) if reasoning_mode else None
            finish = "stop"
            if kind == "length":
                content, finish = content[: max(len(content) // 3, 1)], "length"
                if reasoning_mode == "tags":
                    content = f"<think>\n{reasoning}\n</think>\n\n{content}"
                    reasoning = None
            elif kind == "length_think":
                partial = reasoning_text(messages)[:20]
                finish = "length"
                if reasoning_mode == "tags":
                    content, reasoning = f"<think>\n{partial}", None
                else:
                    content, reasoning = None, partial
            elif reasoning_mode == "tags":
                content, reasoning = f"<think>\n{reasoning}\n</think>\n\n{content}", None
            stops = body.get("stop")
            if isinstance(stops, str):
                stops = [stops]
            for s in stops or []:
                if content and s in content:
                    content = content[: content.index(s)]
            msg: dict[str, Any] = {"role": "assistant", "content": content}
            if reasoning is not None:
                msg["reasoning_content"] = reasoning
            choices.append({"index": i, "message": msg, "finish_reason": finish, "logprobs": None})
        prompt_tokens = sum(len(str(m.get("content") or "")) for m in messages) // 4 + 1
        completion_tokens = sum(len(c["message"]["content"] or "") + len(c["message"].get("reasoning_content") or "")
                                for c in choices) // 4 + n
        return {
            "id": f"chatcmpl-{self.requests}", "object": "chat.completion", "created": 0,
            "model": body.get("model") or self.model, "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


def _make_handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        # Headers and body go out in two writes; with Nagle on, the client's delayed ACK adds
        # ~40 ms to every response.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        def _error(self, status: int, message: str, etype: str, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps({"error": {"message": message, "type": etype, "code": status}}).encode(),
                       headers)

        def _embeddings(self, raw: bytes) -> None:
            """``/v1/embeddings``: a directive in any input (``[[500x1]]``, ``[[429x1]]``, ``[[400]]``)
            aims a fault at the whole batch, as for chat."""
            body = json.loads(raw)
            inputs = body.get("input")
            inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
            kind, arg = server._plan({"messages": [{"role": "user", "content": " ".join(map(str, inputs))}]})
            with server._lock:
                server.by_outcome["embeddings:" + kind] += 1
            if kind == "429":
                self._error(429, "rate limit reached", "rate_limit_error", {"Retry-After": f"{arg or 0.05:g}"})
            elif kind == "500":
                self._error(500, "internal error", "server_error")
            elif kind == "400":
                self._error(400, "bad request: unknown model", "invalid_request_error")
            else:
                data = [{"object": "embedding", "index": i, "embedding": embedding_vector(str(t))}
                        for i, t in enumerate(inputs)]
                self._send(200, json.dumps({"object": "list", "data": data, "model": body.get("model") or server.model,
                                            "usage": {"prompt_tokens": 0, "total_tokens": 0}}).encode())

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": server.model, "object": "model", "created": 0, "owned_by": "test"}]}).encode())
            else:
                self._error(404, "not found", "not_found")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/").endswith("/embeddings"):
                self._embeddings(raw)
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"unknown path {self.path}", "not_found")
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._error(400, "request body is not JSON", "invalid_request_error")
                return
            kind, arg = server._plan(body)
            with server._lock:
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                if server.latency:
                    time.sleep(server.latency)
                if kind == "slow":
                    time.sleep(arg or 1.0)
                    kind = "ok"
            finally:
                with server._lock:
                    server.in_flight -= 1
                    server.by_outcome[kind] += 1
            if kind == "429":
                self._error(429, "rate limit reached", "rate_limit_error",
                            {"Retry-After": f"{arg if arg is not None else 0.05:g}"})
            elif kind == "500":
                self._error(500, "internal error", "server_error")
            elif kind == "400":
                self._error(400, "bad request: model does not support this", "invalid_request_error")
            elif kind == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            elif kind == "badjson":
                self._send(200, b'{"id": "chatcmpl-x", "choices": [{"index": 0, "mess')
            elif kind == "nochoices":
                self._send(200, json.dumps({"id": "chatcmpl-x", "object": "chat.completion", "created": 0,
                                            "model": server.model, "choices": []}).encode())
            else:
                self._send(200, json.dumps(server.completion(body, kind), ensure_ascii=False).encode())

    return Handler


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Loopback chat-completions server for tests and benches.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0, help="fixed seconds per request")
    ap.add_argument("--reasoning", choices=["field", "tags"], default=None)
    ap.add_argument("--demo-teacher", action="store_true", help="answer curate augment requests (docs/eval.md demo)")
    args = ap.parse_args(argv)
    srv = ChatServer(host=args.host, port=args.port, latency=args.latency, reasoning=args.reasoning,
                     responder=demo_teacher if args.demo_teacher else None)
    print(srv.url, flush=True)
    try:
        srv._httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv._httpd.server_close()
        print(f"requests: {srv.requests}", file=sys.stderr)


if __name__ == "__main__":
    main()
