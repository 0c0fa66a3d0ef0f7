"""`curate augment`: a real teacher on a loopback server writes new prompts per badcase; copies of
the badcase, of eval prompts and of each other, and English drift from a Chinese badcase, go to
the rejects with reasons; lineage is kept; in + copies = out + rejects."""

from __future__ import annotations

import pytest

import json

import orjson

from curator.augment import parse_prompts
from tests.chat_server import ChatServer
from tests.conftest import run_cli

EVAL_PROMPT = "请把这句话翻译成英文：今天天气很好"


def teacher(messages, index=0):
    """A teacher that answers the augment request with a JSON array of prompts (some of them bad on purpose)."""
    body = messages[-1]["content"]
    original = body.split("\n\n")[0].split("\n", 1)[1]
    if "[[garbage]]" in original:
        return "I cannot help with that."
    if all(ord(c) < 128 for c in original):
        return json.dumps([f"{original} Explain step by step.", "Compute 17 * 23 and show the carries.",
                           "A shop sells pens at 3 for 2 dollars; how much are 12 pens?"])
    return "```json\n" + json.dumps([
        f"{original}",                                   # a copy of the badcase: dropped
        EVAL_PROMPT,                                     # an eval prompt: dropped (leakage)
        "Translate this sentence into English please",   # English from a Chinese badcase: dropped
        "请判断这条评论的情感：快递慢得离谱，但客服态度还行。",
        "请判断这条评论的情感：快递慢得离谱，但客服态度还行！",  # a near copy of the previous one: dropped
        "这家店的菜一般般，价格倒是便宜，你觉得评价偏正面还是负面？",
    ], ensure_ascii=False) + "\n```"


def test_parse_prompts_forms():
    assert parse_prompts('["a", "b"]') == ["a", "b"]
    assert parse_prompts('{"prompts": [{"prompt": "x"}]}') == ["x"]
    assert parse_prompts("1. 第一题\n2) 第二题\n- third") == ["第一题", "第二题", "third"]


@pytest.mark.slow
def test_augment_with_loopback_teacher(tmp_path):
    bad = tmp_path / "bad.jsonl"
    rows = [
        {"id": "b1", "messages": [{"role": "user", "content": "评论：物流很慢，东西还行。情感是？"},
                                  {"role": "assistant", "content": "正面"}],
         "meta": {"reference": {"role": "assistant", "content": "中性"},
                  "eval": {"task": "classification", "why": "label '正面', expected '中性'"}}},
        {"id": "b2", "messages": [{"role": "user", "content": "What is 12 * 13?"},
                                  {"role": "assistant", "content": "146"}], "meta": {"reference": "156"}},
        {"id": "b3", "messages": [{"role": "user", "content": "[[garbage]] 随便"}, {"role": "assistant", "content": "x"}]},
    ]
    bad.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"messages": [{"role": "user", "content": EVAL_PROMPT},
                                           {"role": "assistant", "content": "The weather is nice today."}]},
                             ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "prompts.jsonl"
    with ChatServer(responder=teacher) as server:
        r = run_cli("augment", str(bad), "-o", str(out), "--per", "6", "--model", "teacher", "--base-url", server.url,
                    "--exclude", str(ev), env={"OPENAI_API_KEY": "k"})
        assert r.returncode == 0, r.stderr
        sent = server.last_bodies[0]["messages"]
    assert "你是训练数据设计者" in sent[0]["content"] or "You design" in sent[0]["content"]
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    zh = [g for g in got if g["meta"]["augmented_from"] == "b1"]
    assert [g["messages"][0]["content"] for g in zh] == ["请判断这条评论的情感：快递慢得离谱，但客服态度还行。",
                                                         "这家店的菜一般般，价格倒是便宜，你觉得评价偏正面还是负面？"]
    assert zh[0]["meta"]["weakness"] == "label '正面', expected '中性'" and zh[0]["meta"]["lineage"][-1] == "augment"
    assert len([g for g in got if g["meta"]["augmented_from"] == "b2"]) == 3
    rej = [json.loads(x) for x in (tmp_path / "prompts.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    reasons = sorted(x["reason"] for x in rej)
    assert reasons == ["language_mismatch", "near_duplicate", "near_duplicate", "near_duplicate_of_badcase",
                       "unparseable_reply"]
    man = json.loads((tmp_path / "prompts.manifest.json").read_text())
    c = man["counts"]
    assert c["in"] == 3 and c["out"] == 5 and c["balanced"]
