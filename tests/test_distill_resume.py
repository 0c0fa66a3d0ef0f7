"""Resume: `kill -9` mid-run loses no paid answer; Ctrl-C leaves no partial output. The CLI runs
as a real subprocess against the loopback server, which counts requests per prompt."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chat_server import ChatServer
from tests.conftest import ROOT, run_cli

N = 120
CONCURRENCY = 4


@pytest.fixture
def server():
    with ChatServer(latency=0.03) as s:
        yield s


def _prompts(tmp_path: Path) -> Path:
    p = tmp_path / "p.jsonl"
    p.write_text("".join(json.dumps({"instruction": f"question {i}", "output": ""}) + "\n" for i in range(N)))
    return p


def _args(server, inp, out, cache):
    return ["distill", str(inp), "-o", str(out), "--model", "teacher", "--base-url", server.url, "--cache",
            str(cache), "--concurrency", str(CONCURRENCY), "--no-progress"]


def _start(args) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # SIGINT at its default in the child, as in a terminal: a test runner started in the background
    # of a non-interactive shell inherits SIGINT *ignored*, and an ignored signal stays ignored
    # across exec, so the Ctrl-C under test would never arrive (the run would just finish)
    return subprocess.Popen([sys.executable, "-m", "curator", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_cached(cache: Path, at_least: int, proc: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run finished before it could be interrupted"
        if cache.exists():
            try:
                n = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            if n >= at_least:
                return n
        time.sleep(0.02)
    raise AssertionError("no progress")


def _without_latency(path: Path) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    for r in rows:
        r["meta"]["generation"].pop("latency_s")
    return rows


@pytest.mark.slow
def test_kill_9_then_rerun_resumes_without_resending(server, tmp_path):
    inp = _prompts(tmp_path)
    ref = tmp_path / "ref.jsonl"
    assert run_cli(*_args(server, inp, ref, tmp_path / "ref.sqlite")).returncode == 0
    server.reset_counts()

    out, cache = tmp_path / "out.jsonl", tmp_path / "out.sqlite"
    proc = _start(_args(server, inp, out, cache))
    _wait_cached(cache, 30, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    sent_before = server.requests
    assert 30 <= sent_before < N
    cached = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    assert cached >= 30

    cp = run_cli(*_args(server, inp, out, cache))
    assert cp.returncode == 0, cp.stderr
    # Every cached answer was reused; only requests in flight at the kill were sent twice.
    resent = sum(c - 1 for c in server.prompts.values() if c > 1)
    assert resent <= CONCURRENCY
    assert server.requests - sent_before == N - cached
    assert _without_latency(out) == _without_latency(ref)
    manifest = json.loads((tmp_path / "out.manifest.json").read_text())
    assert manifest["generation"]["cache_hits"] == cached and manifest["counts"]["balanced"]


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_keeps_finished_work(server, tmp_path):
    inp = _prompts(tmp_path)
    out, cache = tmp_path / "out.jsonl", tmp_path / "out.sqlite"
    proc = _start(_args(server, inp, out, cache))
    _wait_cached(cache, 20, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out.rejects.jsonl").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    cached = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    server.reset_counts()
    cp = run_cli(*_args(server, inp, out, cache))
    assert cp.returncode == 0, cp.stderr
    assert server.requests == N - cached
    assert len(out.read_text().splitlines()) == N
