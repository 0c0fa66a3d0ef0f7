"""Secrets never reach a file or the terminal; a request has a total deadline.

Real `curate distill` subprocesses talk to the real loopback server (tests/chat_server.py),
which echoes the Authorization header in a 401 body, and trickles a body one byte a second.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from curator.redact import redact, redact_argv, redact_text
from tests.chat_server import ChatServer
from tests.conftest import run_cli

KEY = "sk-live-DoNotLeakMe0123456789"


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s


def _prompts(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"instruction": t, "output": ""}) + "\n" for t in texts), encoding="utf-8")
    return path


def _everything_written(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_redact_text_masks_keys_userinfo_and_secret_query_params():
    s = redact_text(f"http://bob:{KEY}@h:8/v1?api_key={KEY}&model=m and Bearer abcdefghij and hf_abcdefghijk")
    assert KEY not in s and "abcdefghij" not in s
    assert s.startswith("http://***@h:8/v1?api_key=***&model=m") and "Bearer ***" in s
    assert redact({"base_url": f"http://u:{KEY}@h/v1", "hf_token": "x" * 10, "max_tokens": 5, "api_key_env": "K"}) == \
        {"base_url": "http://***@h/v1", "hf_token": "***", "max_tokens": 5, "api_key_env": "K"}
    assert redact_argv(["curate", "--base-url", f"http://h/v1?key={KEY}", "--password=hunter2"]) == \
        ["curate", "--base-url", "http://h/v1?key=***", "--password=***"]


def _distill(server_url: str, inp: Path, out: Path):
    return run_cli("distill", str(inp), "-o", str(out), "--model", "teacher", "--base-url", server_url,
                   "--api-key-env", "MY_TEACHER_KEY", "--max-retries", "0", "--no-progress",
                   env={"MY_TEACHER_KEY": KEY})


def test_a_server_echoing_the_key_leaks_nothing(server, tmp_path):
    inp = _prompts(tmp_path / "p.jsonl", ["fine", "[[echokey]] please"])
    cp = _distill(server.url, inp, tmp_path / "o.jsonl")
    assert cp.returncode == 0, cp.stderr
    assert KEY not in cp.stdout + cp.stderr and "Bearer ***" in cp.stderr
    assert KEY.encode() not in _everything_written(tmp_path)
    rejects = [json.loads(x) for x in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 1 and "Invalid key: Bearer ***" in rejects[0]["message"]


def test_key_in_url_query_leaks_nothing(server, tmp_path):
    # the server answers 404 and echoes the path, query (and key) included
    inp = _prompts(tmp_path / "p.jsonl", ["fine"])
    cp = _distill(server.url + f"?api_key={KEY}", inp, tmp_path / "o.jsonl")
    assert cp.returncode == 0, cp.stderr
    assert KEY not in cp.stdout + cp.stderr
    assert KEY.encode() not in _everything_written(tmp_path)
    rejects = [json.loads(x) for x in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert "api_key=***" in rejects[0]["message"]
    manifest = json.loads((tmp_path / "o.manifest.json").read_text())
    assert manifest["params"]["base_url"].endswith("?api_key=***")


def test_key_in_url_user_info_leaks_nothing(server, tmp_path):
    inp = _prompts(tmp_path / "p.jsonl", ["fine"])
    cp = _distill(server.url.replace("http://", f"http://user:{KEY}@"), inp, tmp_path / "o.jsonl")
    assert cp.returncode == 0, cp.stderr
    assert KEY not in cp.stdout + cp.stderr
    assert KEY.encode() not in _everything_written(tmp_path)
    manifest = json.loads((tmp_path / "o.manifest.json").read_text())
    assert manifest["params"]["base_url"].startswith("http://***@")
    assert any(a.startswith("http://***@") for a in manifest["argv"])


@pytest.mark.slow
def test_total_deadline_stops_a_trickling_server(server, tmp_path):
    inp = _prompts(tmp_path / "p.jsonl", ["[[trickle]] slowly"])
    t0 = time.perf_counter()
    cp = run_cli("distill", str(inp), "-o", str(tmp_path / "o.jsonl"), "--model", "teacher", "--base-url",
                 server.url, "--timeout", "2", "--max-retries", "0", "--no-progress")
    took = time.perf_counter() - t0
    assert cp.returncode == 0, cp.stderr
    rejects = [json.loads(x) for x in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejects] == ["timeout"]
    assert "total deadline" in rejects[0]["message"]
    # the run's own clock (interpreter start-up excluded): the 2 s deadline plus slack for a busy
    # machine — the trickled body alone would take ~300 s
    seconds = json.loads((tmp_path / "o.manifest.json").read_text())["seconds"]
    assert seconds < 2 + 8 and took < 60, (seconds, took)


def _reference_redact_text(text: str) -> str:
    """`redact_text` without its literal pre-checks: every pattern scanned on every text."""
    from curator import redact as r

    if not text:
        return text
    for s in sorted(r._secrets, key=len, reverse=True):
        text = text.replace(s, r.MASK)
    text = r._URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{r.MASK}@", text)
    text = r._QUERY_SECRET.sub(lambda m: f"{m.group('k')}{r.MASK}", text)
    return r._TOKENS.sub(lambda m: (m.group("b") or "") + r.MASK, text)


def test_pre_checks_skip_only_scans_that_cannot_match(real, monkeypatch):
    """The literal pre-checks (which made a dedup reject line ~6x cheaper to write) change no
    output: hostile strings, every token shape, and the messages and texts of real data."""
    import random

    from curator import redact as r

    monkeypatch.setattr(r, "_secrets", set())  # this test's secret is forgotten after it
    monkeypatch.setattr(r, "_by_length", ())
    r.add_secret("plainAlnumSecret42")
    shapes = ["Bearer abcdef123456", "Authorization: Bearer\tXyZ.~+/=-12345", "sk-abcdefgh12", "rk-ABCDEFGH_-",
              "pk-12345678", "hf_abcdefgh1", "ghp_" + "a" * 20, "gho_" + "B" * 21, "ghs_" + "9" * 22,
              "AKIA" + "ABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP", "https://user:pw@host/x", "ftp://a@b",
              "?api_key=v1", "&token=abc", ";code=xyz", "?key=1&sig=2", "plainAlnumSecret42", "xplainAlnumSecret42y",
              "near-duplicate", "id_123", "gh_", "hf-", "sk_", "Bear er x", "AKI", "://", "=", "", "一二三sk-abcdefghij",
              "中文AKIAABCDEFGHIJKLMNOP", "Ｂearer abcdefgh", "sk-短", "a" * 40]
    rnd = random.Random(7)
    texts = list(shapes)
    for _ in range(3000):  # shapes glued to each other and to noise, in any order
        texts.append(rnd.choice([" ", "", "x", "-", "_", "\n"]).join(rnd.choices(shapes, k=rnd.randint(1, 4))))
    for name in ("alpaca_en_demo.json", "gpteacher_toolformer_dedupe_only.json"):
        for row in json.loads((real / name).read_text(encoding="utf-8"))[:2000]:
            texts += [v for v in row.values() if isinstance(v, str)]
    for t in texts:
        assert redact_text(t) == _reference_redact_text(t), t


def test_a_forked_workers_reject_line_is_written_as_add_writes_it(tmp_path, monkeypatch):
    """`RejectSink.add_line` (dedup's pass 2 on the local pool) writes the line a worker's sink made
    byte for byte as `add` would after re-reading it: redaction is idempotent, secrets included."""
    from curator import redact as r
    from curator.rejects import RejectSink
    from curator.engine.tasks import BufferSink

    monkeypatch.setattr(r, "_secrets", set())
    monkeypatch.setattr(r, "_by_length", ())
    r.add_secret(KEY)
    worker = BufferSink("dedup")
    for msg in (f"key {KEY} in https://u:{KEY}@h/x?api_key={KEY}&q=1", "Bearer abcdefghijk", "plain 中文", ""):
        worker.add("near_duplicate", msg, record={"id": "1", "messages": [{"role": "user", "content": KEY}]},
                   source="in.jsonl", line=3, id="1", duplicate_of="0", similarity=0.75, note=f"sk-{'a' * 12}")
    a, b = RejectSink(tmp_path / "a.jsonl", "dedup"), RejectSink(tmp_path / "b.jsonl", "dedup")
    for line in worker.lines():
        a.add(**json.loads(line))
        b.add_line(line)
    a.close(), b.close()
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert a.counts == b.counts and a.examples == b.examples
    for line in (tmp_path / "b.jsonl").read_text().splitlines():  # masked everywhere but in the record
        entry = json.loads(line)
        assert KEY not in json.dumps({k: v for k, v in entry.items() if k != "record"}) and "sk-aaaa" not in line
