"""`curate distill` end to end: the real CLI in a subprocess, the real openai client, the loopback
server. Rejects with reasons, counts that balance, reasoning kept, truncation flagged, cache hits
on re-run, modes, templates, dry run, no secrets on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.rejects import read_rejects
from tests.chat_server import ChatServer, answer_text
from tests.conftest import run_cli


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _distill(server, inp, out, *args, env=None):
    return run_cli("distill", str(inp), "-o", str(out), "--model", "teacher", "--base-url", server.url,
                   "--max-retries", "2", "--no-progress", *args, env=env)


PROMPTS = [
    {"instruction": "Explain why the sky is blue.", "input": "", "output": ""},
    {"instruction": "列举三个提高睡眠质量的方法。 [[429x1:0.05]]", "input": "", "output": ""},
    {"instruction": "Always failing [[500]]", "input": "", "output": ""},
    {"instruction": "Cut short [[length]]", "input": "", "output": ""},
    {"instruction": "Thinks too long [[length_think]]", "input": "", "output": ""},
    {"instruction": "Reasoning model [[reason]]", "input": "", "output": ""},
    {"instruction": "R1 style [[think]]", "input": "", "output": ""},
    {"instruction": "Not allowed [[400]]", "input": "", "output": ""},
    {"instruction": "Already answered", "input": "", "output": "kept as is"},
    {"instruction": "", "input": "", "output": ""},
]


@pytest.mark.slow
def test_fill_rejects_with_reasons_keeps_reasoning_and_balances(server, tmp_path):
    inp = _write(tmp_path / "prompts.jsonl", PROMPTS)
    out = tmp_path / "out.jsonl"
    cp = _distill(server, inp, out, "--temperature", "0.5", "--max-tokens", "64")
    assert cp.returncode == 0, cp.stderr
    rows = {r["messages"][0]["content"]: r for r in _read(out)}
    sky = rows["Explain why the sky is blue."]
    assert sky["messages"][1] == {"role": "assistant", "content": "Answer to turn 1: Explain why the sky is blue."}
    gen = sky["meta"]["generation"]
    assert gen["model"] == "teacher" and gen["finish_reason"] == "stop"
    assert gen["params"] == {"temperature": 0.5, "max_tokens": 64}
    assert gen["usage"]["completion_tokens"] > 0 and gen["latency_s"] >= 0
    # reasoning_content field and <think> block both land in Message.reasoning
    for prompt in ("Reasoning model [[reason]]", "R1 style [[think]]"):
        a = rows[prompt]["messages"][1]
        assert a["reasoning_content"].startswith("Let me think about:") and a["content"].startswith("Answer to turn 1")
    assert rows["Already answered"]["messages"][1]["content"] == "kept as is"
    assert "generation" not in rows["Already answered"]["meta"]
    rejects = {r["reason"]: r for r in read_rejects(tmp_path / "out.rejects.jsonl")}
    assert set(rejects) == {"server_error", "truncated", "truncated_reasoning", "api_error", "empty_content"}
    assert "after 3 tries" in rejects["server_error"]["message"] and "prompts.jsonl:3" in rejects["server_error"]["message"]
    assert "still reasoning" in rejects["truncated_reasoning"]["message"]
    assert rejects["server_error"]["record"]["messages"][0]["content"] == "Always failing [[500]]"
    manifest = json.loads((tmp_path / "out.manifest.json").read_text())
    assert manifest["counts"]["in"] == 10 and manifest["counts"]["out"] == 5
    assert manifest["counts"]["balanced"] is True
    g = manifest["generation"]
    assert g["retries"] >= 3 and g["failed_requests"] == 2 and g["errors"] == {"api_error": 1, "server_error": 1}


@pytest.mark.slow
def test_rerun_sends_nothing_cached_and_output_is_identical(server, tmp_path):
    inp = _write(tmp_path / "p.jsonl", [{"instruction": f"question {i}", "output": ""} for i in range(30)]
                 + [{"instruction": "flaky [[500x3]]", "output": ""}])
    out = tmp_path / "o.jsonl"
    assert _distill(server, inp, out).returncode == 0
    assert server.requests == 33  # 30 + 3 failed tries of the flaky one (max-retries 2)
    first = out.read_bytes()
    assert len(read_rejects(tmp_path / "o.rejects.jsonl")) == 1
    server.reset_counts()
    cp = _distill(server, inp, out)  # the failure is retried (failures are not cached), the rest is not
    assert cp.returncode == 0, cp.stderr
    assert server.requests == 1 and server.prompts["flaky [[500x3]]"] == 1
    assert out.read_bytes().startswith(first.rstrip(b"\n").split(b"\n")[0])
    server.reset_counts()
    second = out.read_bytes()
    assert _distill(server, inp, out).returncode == 0
    assert server.requests == 0 and out.read_bytes() == second
    assert (tmp_path / "o.cache.sqlite").exists()
    server.reset_counts()
    assert _distill(server, inp, tmp_path / "o2.jsonl", "--no-cache").returncode == 0
    assert server.requests == 31 and not (tmp_path / "o2.cache.sqlite").exists()


@pytest.mark.slow
def test_keep_truncated_flags_instead_of_rejecting(server, tmp_path):
    inp = _write(tmp_path / "p.jsonl", [{"instruction": "a [[length]]", "output": ""},
                                        {"instruction": "b [[length_think]]", "output": ""}])
    out = tmp_path / "o.jsonl"
    assert _distill(server, inp, out, "--keep-truncated").returncode == 0
    rows = _read(out)
    assert [r["meta"]["generation"]["truncated"] for r in rows] == ["answer", "reasoning"]
    assert rows[1]["messages"][1]["content"] == "" and rows[1]["messages"][1]["reasoning_content"]


def test_multi_turn_answers_mt_bench_turns_in_order(server, tmp_path):
    inp = _write(tmp_path / "mt.jsonl", [{"question_id": 81, "turns": ["Write a poem.", "Now shorter."]},
                                         {"question_id": 82, "turns": ["One turn only."]}])
    out = tmp_path / "o.jsonl"
    cp = _distill(server, inp, out, "--mode", "multi-turn", "--system", "Be brief.")
    assert cp.returncode == 0, cp.stderr
    rows = _read(out)
    roles = [m["role"] for m in rows[0]["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert rows[0]["id"] == "81"
    assert rows[0]["messages"][3]["content"] == "Answer to turn 2: Now shorter."
    assert len(rows[0]["meta"]["generation"]["turns"]) == 2
    # the second turn was asked with the first answer in context, and the system prompt
    asked = [b for b in server.last_bodies if len(b["messages"]) == 4][0]["messages"]
    assert asked[0] == {"role": "system", "content": "Be brief."}
    assert asked[2]["content"] == "Answer to turn 1: Write a poem."
    assert all(m["role"] != "system" for m in rows[0]["messages"])  # the record keeps its own turns


def test_regenerate_replaces_every_answer(server, tmp_path, sample):
    out = tmp_path / "o.jsonl"
    cp = _distill(server, sample / "reasoning_ark.jsonl", out, "--mode", "regenerate")
    assert cp.returncode == 0, cp.stderr
    for r in _read(out):
        a = r["messages"][-1]
        assert a["content"] == answer_text(r["messages"][:-1]) and "reasoning_content" not in a
        assert r["meta"]["lineage"][-1] == "distill:regenerate"


@pytest.mark.slow
def test_template_n_and_dry_run(server, tmp_path):
    inp = _write(tmp_path / "p.jsonl", [{"instruction": "2+2?", "output": "", "category": "math"}])
    tpl = "[{{ category }}] {{ prompt }} Answer briefly."
    dry = _distill(server, inp, tmp_path / "d.jsonl", "--template", tpl, "--dry-run", "5", "--seed", "7")
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)
    assert body["messages"] == [{"role": "user", "content": "[math] 2+2? Answer briefly."}] and body["seed"] == 7
    assert server.requests == 0 and not (tmp_path / "d.jsonl").exists()
    out = tmp_path / "o.jsonl"
    cp = _distill(server, inp, out, "--template", tpl, "--n", "2", "--temperature", "1")
    assert cp.returncode == 0, cp.stderr
    rows = _read(out)
    assert [r["meta"]["generation"]["sample"] for r in rows] == [0, 1]
    assert rows[0]["id"].endswith(".s0") and rows[1]["messages"][1]["content"].endswith("(sample 1)")
    assert rows[0]["messages"][0]["content"] == "2+2?"  # the record keeps the prompt as written
    assert server.requests == 1 and server.last_bodies[0]["n"] == 2
    bad = _distill(server, inp, tmp_path / "b.jsonl", "--template", "{{ nope }} {{ prompt }}")
    assert bad.returncode == 0
    assert read_rejects(tmp_path / "b.rejects.jsonl")[0]["reason"] == "template_error"


def test_secrets_stay_out_of_manifest_cache_and_logs(server, tmp_path):
    inp = _write(tmp_path / "p.jsonl", [{"instruction": "hi", "output": ""}])
    out = tmp_path / "o.jsonl"
    secret = "sk-test-very-secret-0123456789"
    cp = _distill(server, inp, out, "--api-key-env", "MY_TEACHER_KEY", env={"MY_TEACHER_KEY": secret})
    assert cp.returncode == 0, cp.stderr
    assert secret not in cp.stdout + cp.stderr
    for f in tmp_path.iterdir():
        assert secret.encode() not in f.read_bytes(), f


@pytest.mark.slow
def test_usage_errors_exit_2_without_traceback(tmp_path):
    inp = _write(tmp_path / "p.jsonl", [{"instruction": "hi", "output": ""}])
    cp = run_cli("distill", str(inp), "-o", str(tmp_path / "o.jsonl"), "--model", "gpt-x",
                 "--api-key-env", "CURATOR_TEST_UNSET_KEY")
    assert cp.returncode == 2 and "CURATOR_TEST_UNSET_KEY" in cp.stderr and "Traceback" not in cp.stderr
    cp = run_cli("distill", str(inp), "-o", str(tmp_path / "o.jsonl"), "--model", "m", "--base-url",
                 "http://127.0.0.1:9/v1", "--mode", "nope")
    assert cp.returncode == 2 and "--mode" in cp.stderr
