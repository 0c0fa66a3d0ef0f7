"""Format edges where LLaMA-Factory's converter and the fine-tuning upload rules are the reference:
an Alpaca row with an empty instruction, a ShareGPT row ending on a human turn, and `--strip-meta`
output checked against OpenAI's / Volcengine Ark's upload rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.errors import RowError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, WriteOptions, get_format
from curator.record import Conversation, Message
from curator.rejects import read_rejects
from tests.chat_server import ChatServer
from tests.conftest import run_cli

alpaca, sharegpt, messages = get_format("alpaca"), get_format("sharegpt"), get_format("messages")
UPLOAD = WriteOptions(strip_meta=True)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------------- alpaca
@pytest.mark.parametrize("row,user", [
    ({"instruction": "", "input": "only input", "output": "ok"}, "only input"),
    ({"instruction": "Translate.", "input": "", "output": "ok"}, "Translate."),
    ({"instruction": "Translate.", "input": "Bonjour", "output": "Hello"}, "Translate.\nBonjour"),
])
def test_alpaca_joins_only_the_non_empty_parts_and_converts_back(row, user):
    c = alpaca.parse(row, DEFAULT_READ)
    assert c.messages[0].content == user
    assert alpaca.render(c, DEFAULT_WRITE) == row  # hashed ids are not written back


# -------------------------------------------------------------------------------- sharegpt
DANGLING = {"conversations": [{"from": "human", "value": "What is 2+2?"}, {"from": "gpt", "value": "4."},
                              {"from": "human", "value": "And 3+3?"}]}
COMPLETE = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}


def test_sharegpt_ending_on_a_human_turn_is_rejected_as_no_final_answer(tmp_path):
    src = _write(tmp_path / "in.jsonl", [COMPLETE, DANGLING])
    out = tmp_path / "out.jsonl"
    r = run_cli("convert", str(src), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert len(_read(out)) == 1
    (rej,) = read_rejects(tmp_path / "out.rejects.jsonl")
    assert rej["reason"] == "no_final_answer" and rej["line"] == 2
    assert "ends on a user turn" in rej["message"] and "distill" in rej["message"]


def test_distill_multi_turn_answers_the_dangling_turn(tmp_path):
    src = _write(tmp_path / "in.jsonl", [DANGLING])
    out = tmp_path / "out.jsonl"
    with ChatServer() as server:
        r = run_cli("distill", str(src), "-o", str(out), "--model", "teacher", "--base-url", server.url,
                    "--mode", "multi-turn", "--no-progress", "--no-cache")
    assert r.returncode == 0, r.stderr
    (row,) = _read(out)
    roles = [m["role"] for m in row["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert row["messages"][1]["content"] == "4." and row["messages"][3]["content"]


# ------------------------------------------------------------------------- --strip-meta upload
GLAIVE_TOOL = {"name": "convert", "description": "Convert money",
               "parameters": {"type": "object", "properties": {"amount": {"type": "number"}}}}


def _tool_conv(**kw) -> Conversation:
    call = [{"id": "call_0", "type": "function", "function": {"name": "convert", "arguments": '{"amount": 100}'}}]
    return Conversation([Message("system", "Be brief.", weight=0.0), Message("user", "100 USD in EUR?", weight=1.0),
                         Message("assistant", "", tool_calls=call, weight=1.0),
                         Message("tool", '{"eur": 92}', tool_call_id="call_0"),
                         Message("assistant", "92 EUR.", weight=0.0)], id="x", tools=[GLAIVE_TOOL], meta={"a": 1}, **kw)


def assert_openai_upload_row(row: dict) -> None:
    """OpenAI's chat fine-tuning rules for one JSONL row (and Ark's, which are a subset for text):
    only messages / tools / parallel_tool_calls at the top; roles system, user, assistant, tool;
    `weight` only on assistant messages, 0 or 1; tools as {"type": "function", "function": {...}}
    with a name; tool calls with id, type "function" and string arguments; tool results name the
    call they answer; the last message is the assistant's."""
    assert set(row) <= {"messages", "tools", "parallel_tool_calls"}
    calls = set()
    for m in row["messages"]:
        assert m["role"] in ("system", "user", "assistant", "tool")
        assert set(m) <= {"role", "content", "name", "tool_calls", "tool_call_id", "weight", "reasoning_content"}
        if "weight" in m:
            assert m["role"] == "assistant" and m["weight"] in (0, 1) and isinstance(m["weight"], int)
        for c in m.get("tool_calls") or []:
            assert c["type"] == "function" and c["id"] and isinstance(c["function"]["arguments"], str)
            calls.add(c["id"])
        if m["role"] == "tool":
            assert m["tool_call_id"] in calls
    assert row["messages"][-1]["role"] == "assistant"
    for t in row.get("tools", []):
        assert t["type"] == "function" and set(t) == {"type", "function"} and t["function"]["name"]


def test_strip_meta_writes_openai_shaped_tools_and_weights_only_on_answers():
    row = messages.render(_tool_conv(), UPLOAD)
    assert_openai_upload_row(row)
    assert row["tools"] == [{"type": "function", "function": GLAIVE_TOOL}]
    assert [m.get("weight") for m in row["messages"]] == [None, None, 1, None, 0]
    # already OpenAI-shaped tools pass unchanged; the canonical (non-stripped) output is untouched
    again = messages.render(messages.parse(row, DEFAULT_READ), UPLOAD)
    assert again["tools"] == row["tools"]
    assert messages.render(_tool_conv(), DEFAULT_WRITE)["tools"] == [GLAIVE_TOOL]


def test_strip_meta_refuses_a_weight_uploads_do_not_take():
    conv = Conversation([Message("user", "Hi"), Message("assistant", "Hello", weight=0.5)], id="y")
    with pytest.raises(RowError) as e:
        messages.render(conv, UPLOAD)
    assert e.value.code == "unrepresentable" and "0 or 1" in e.value.message


def test_strip_meta_on_real_glaive_tool_calls_follows_the_upload_rules(tmp_path, real):
    out = tmp_path / "up.jsonl"
    r = run_cli("convert", str(real / "glaive_toolcall_en_demo.json"), "-o", str(out), "--strip-meta")
    assert r.returncode == 0, r.stderr
    rows = _read(out)
    assert len(rows) > 100 and any("tools" in x for x in rows)
    for x in rows:
        assert_openai_upload_row(x)
