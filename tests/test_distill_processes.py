"""`--client-processes N`: the HTTP backend spread over N real client processes.

What must hold: the output, the rejects and their reasons, and the cache keys are exactly those of a
one-process run; a client process killed mid-run costs retries, not records; no client process
outlives the run, whether it ends normally, by Ctrl-C or by `kill -9`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from curator.backends import auto_client_processes, make_backend
from curator.backends.base import GenerationRequest
from curator.backends.process_pool import ProcessPoolBackend
from curator.errors import UsageError
from curator.generation import Generator, RetryPolicy
from curator.rejects import read_rejects
from tests.chat_server import ChatServer, answer_text
from tests.conftest import run_cli
from tests.test_distill import _write, server  # noqa: F401 (server is a fixture)
from tests.test_distill_resume import _start, _wait_cached

PROMPTS = [
    {"instruction": f"Plain question {i}", "output": ""} for i in range(12)
] + [
    {"instruction": "列举三个提高睡眠质量的方法。 [[429x1:0.05]]", "output": ""},
    {"instruction": "Flaky [[500x1]]", "output": ""},
    {"instruction": "Always failing [[500]]", "output": ""},
    {"instruction": "Dropped once [[dropx1]]", "output": ""},
    {"instruction": "Garbled once [[badjsonx1]]", "output": ""},
    {"instruction": "Cut short [[length]]", "output": ""},
    {"instruction": "Reasoning model [[reason]]", "output": ""},
    {"instruction": "R1 style [[think]]", "output": ""},
    {"instruction": "Not allowed [[400]]", "output": ""},
]


def _rows(path: Path) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    for r in rows:
        r["meta"]["generation"].pop("latency_s", None)
    return rows


def _workers_named(model: str) -> list[int]:
    """Pids of live client processes started for `model` (the unique name marks this test's)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
                state = (d / "stat").read_text().split(")")[-1].split()[0]
            except OSError:
                continue
            if b"curator.backends.pool_worker" in cmd and model.encode() in cmd and state != "Z":
                pids.append(int(d.name))
    return pids


def _gone(model: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _workers_named(model):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_output_rejects_and_cache_keys_match_one_process(server, tmp_path):
    inp = _write(tmp_path / "p.jsonl", PROMPTS)
    model = f"teacher-{uuid.uuid4().hex[:8]}"
    opts = ["--model", model, "--max-retries", "2", "--no-progress", "--concurrency", "8"]
    one, many = tmp_path / "one.jsonl", tmp_path / "many.jsonl"
    with ChatServer() as fresh:  # its one-shot faults ([[500x1]]...) not yet spent
        cp = run_cli("distill", str(inp), "-o", str(one), "--no-cache", "--base-url", fresh.url, *opts)
    assert cp.returncode == 0, cp.stderr
    cache = tmp_path / "many.sqlite"
    cp = run_cli("distill", str(inp), "-o", str(many), "--cache", str(cache), "--client-processes", "3",
                 "--base-url", server.url, *opts)
    assert cp.returncode == 0, cp.stderr
    assert _rows(many) == _rows(one)
    rej_one = [(r["id"], r["reason"], r["message"]) for r in read_rejects(tmp_path / "one.rejects.jsonl")]
    rej_many = [(r["id"], r["reason"], r["message"]) for r in read_rejects(tmp_path / "many.rejects.jsonl")]
    assert rej_many == rej_one
    assert {r[1] for r in rej_many} == {"server_error", "api_error", "truncated"}
    assert "HTTP 500" in " ".join(r[2] for r in rej_many)
    # Faults crossed the pipe as retryable errors and were retried in the generator, as in one process.
    assert server.by_outcome["429"] == 1 and server.by_outcome["drop"] == 1 and server.by_outcome["badjson"] == 1
    assert _gone(model)
    # Same cache keys: a one-process re-run on that cache sends only what never succeeded.
    server.reset_counts()
    again = tmp_path / "again.jsonl"
    cp = run_cli("distill", str(inp), "-o", str(again), "--cache", str(cache), "--base-url", server.url, *opts)
    assert cp.returncode == 0, cp.stderr
    assert set(server.prompts) == {"Always failing [[500]]", "Not allowed [[400]]"}  # a truncated answer was paid for: cached
    assert _rows(again) == _rows(one)


@pytest.mark.slow
def test_killed_client_process_costs_retries_not_records(tmp_path):
    async def run(url: str) -> tuple[list, Generator, ProcessPoolBackend, int]:
        pool = ProcessPoolBackend("teacher", url, processes=2, max_connections=16)
        victim = pool.worker_pids()[0]
        generator = Generator(pool, concurrency=16, retry=RetryPolicy(max_retries=3, base=0.01))
        reqs = [GenerationRequest([{"role": "user", "content": f"q{i}"}]) for i in range(16)]
        tasks = [asyncio.ensure_future(generator.call(r)) for r in reqs]
        await asyncio.sleep(0.3)  # every request is in flight (the server holds each for 1 s)
        os.kill(victim, signal.SIGKILL)
        results = await asyncio.gather(*tasks)
        await pool.aclose()
        return results, generator, pool, victim

    with ChatServer(latency=1.0) as srv:
        results, generator, pool, victim = asyncio.run(run(srv.url))
    assert [r.choices[0].content for r in results] == [answer_text([{"role": "user", "content": f"q{i}"}])
                                                       for i in range(16)]
    assert generator.stats.failures == 0 and generator.stats.retries >= 1
    # The dead process was replaced, so later requests had both again.
    assert pool.restarts == 1 and pool.worker_pids()[0] != victim


@pytest.mark.slow
def test_no_client_process_outlives_ctrl_c_or_kill_9(tmp_path):
    inp = _write(tmp_path / "p.jsonl", [{"instruction": f"question {i}", "output": ""} for i in range(200)])
    with ChatServer(latency=0.05) as srv:
        for how in ("sigint", "sigkill"):
            model = f"teacher-{uuid.uuid4().hex[:8]}"
            out, cache = tmp_path / f"{how}.jsonl", tmp_path / f"{how}.sqlite"
            proc = _start(["distill", str(inp), "-o", str(out), "--model", model, "--base-url", srv.url,
                           "--cache", str(cache), "--concurrency", "4", "--client-processes", "2", "--no-progress"])
            _wait_cached(cache, 10, proc)
            assert len(_workers_named(model)) == 2
            proc.send_signal(signal.SIGINT if how == "sigint" else signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
            if how == "sigint":
                assert proc.returncode == 130 and "Traceback" not in err, err
            assert _gone(model), f"client processes left running after {how}"
            assert not out.exists()
            assert sqlite3.connect(cache).execute("SELECT COUNT(*) FROM responses").fetchone()[0] >= 10


def test_usage_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    model = f"teacher-{uuid.uuid4().hex[:8]}"
    with pytest.raises(UsageError, match="NO_SUCH_KEY_VAR"):
        ProcessPoolBackend(model, None, api_key_env="NO_SUCH_KEY_VAR", processes=2)
    assert not _workers_named(model)  # refused before any process started
    with pytest.raises(UsageError, match="--client-processes applies to the HTTP backend"):
        make_backend("transformers", model=str(tmp_path), client_processes=2)
    with pytest.raises(UsageError, match=">= 1"):
        make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", client_processes=0)
    cp = run_cli("distill", str(tmp_path), "-o", str(tmp_path / "o.jsonl"), "--model", "m", "--client-processes", "two")
    assert cp.returncode == 2 and "--client-processes 'two'" in cp.stderr and "Traceback" not in cp.stderr


def test_auto_picks_one_process_below_128_in_flight():
    assert auto_client_processes(64, cpus=16) == 1
    assert auto_client_processes(127, cpus=16) == 1
    assert auto_client_processes(128, cpus=16) == 2
    assert auto_client_processes(256, cpus=2) == 4
    assert auto_client_processes(256, cpus=1) == 2
    assert auto_client_processes(192, cpus=16) == 3
    assert auto_client_processes(1024, cpus=16) == 4
