"""Issue #18, the human step: review fixes for invalid rejects (one key, raw JSON re-validated),
dedup/conflict members resolved side by side, and the loop inside a `curate run` recipe."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from curator.review.fixes import RAW_EDIT, parse_raw_edit, suggest_fix
from curator.review.session import ReviewSession
from tests.conftest import run_cli

pytest.importorskip("textual")


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_suggested_fix_and_raw_edit_are_validated():
    raw = {"messages": [{"role": "user", "content": "hi"}, {"role": "asistant", "content": "hello"},
                        {"role": "user", "content": "more"}, {"role": "Assitant", "content": "sure"}]}
    what, fixed = suggest_fix(raw)
    assert [m["role"] for m in fixed["messages"]] == ["user", "assistant", "user", "assistant"]
    assert "messages[1].role" in what and raw["messages"][1]["role"] == "asistant"  # the original is untouched
    sharegpt = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gtp", "value": "hello"}]}
    assert suggest_fix(sharegpt)[1]["conversations"][1]["from"] == "gpt"
    assert suggest_fix({"messages": [{"role": "user", "content": "x"}, {"role": "banana", "content": "y"}]}) is None
    conv, problem = parse_raw_edit('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]}')
    assert conv is None and "empty" in problem
    assert parse_raw_edit("{not json")[1].startswith("not valid JSON")


def test_review_app_fixes_a_reject_with_one_key_and_exports_it(tmp_path):
    from tests.test_review_app import drive

    q = write_jsonl(tmp_path / "q.rejects.jsonl", [
        {"reason": "unknown_role", "message": "x.jsonl:1: unknown role 'asistant' in messages[1] — did you mean "
         "'assistant'?", "stage": "convert", "source": "x.jsonl", "line": 1, "id": None,
         "record": {"messages": [{"role": "user", "content": "2+2?"}, {"role": "asistant", "content": "4"}]}},
        {"reason": "invalid_json", "message": "x.jsonl:2: invalid JSON", "stage": "convert", "source": "x.jsonl",
         "line": 2, "id": None, "record": '{"messages": [{"role": "user", "content": "hi"'},
    ])
    # row 0: x fixes, a accepts; row 1 (raw text): x has no fix, so nothing is saved
    drive(q, "x", "a", "x", "q")
    s = ReviewSession(q)
    assert s.state(0).status == "accepted" and (0, RAW_EDIT) in s.state(0).edits
    assert s.conversation(0).messages[1].role == "assistant"
    assert s.state(1).status == "pending" and not s.state(1).edits
    # an invalid raw edit is refused (nothing saved); a valid one is saved and makes the row a record
    assert "not valid JSON" in s.edit_raw(1, 0, '{"messages": [')
    assert s.edit_raw(1, 0, orjson.dumps({"messages": [{"role": "user", "content": "hi"},
                                                       {"role": "assistant", "content": "hello"}]}).decode()) is None
    s.reject(1, "wrong")
    s.close()
    acc, bad = tmp_path / "acc.jsonl", tmp_path / "bad.jsonl"
    r = run_cli("review", "export", str(q), "--accepted", str(acc), "--badcases", str(bad))
    assert r.returncode == 0, r.stderr
    assert rows(acc)[0]["messages"][1] == {"role": "assistant", "content": "4"}
    assert rows(bad)[0]["messages"][1]["content"] == "hello" and rows(bad)[0]["meta"]["review"]["edited"]


def test_dedup_report_and_conflicts_show_members_side_by_side(tmp_path):
    from tests.test_review_app import drive, screen_text

    src = write_jsonl(tmp_path / "d.jsonl", [
        {"messages": [{"role": "user", "content": "What is the capital of France? Answer briefly please."},
                      {"role": "assistant", "content": "Paris is the capital of France."}]},
        {"messages": [{"role": "user", "content": "What is the capital of France? Answer briefly please!"},
                      {"role": "assistant", "content": "Lyon, a famous city in the south-east."}]},
        {"messages": [{"role": "user", "content": "Name a prime number below ten."},
                      {"role": "assistant", "content": "Seven."}]},
        {"messages": [{"role": "user", "content": "Name a prime number below ten."},
                      {"role": "assistant", "content": "Seven."}]},
    ])
    report, conflicts = tmp_path / "clusters.jsonl", tmp_path / "conflicts.jsonl"
    r = run_cli("dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--report", str(report),
                "--conflicts", str(conflicts))
    assert r.returncode == 0, r.stderr
    for f, want in ((conflicts, ["Paris is the capital", "Lyon, a famous city"]),
                    (report, ["Name a prime number", "Seven."])):
        assert rows(f), f.name
        s = ReviewSession(f)
        item = s.item(0)
        assert item.kind == "group" and all(m.conv is not None for m in item.members), item.members
        s.close()
        text = drive(f, check=screen_text)
        assert all(w in text for w in want), text[:2000]


@pytest.mark.slow
def test_recipe_review_stage_and_rejects_as_input(tmp_path):
    from tests.chat_server import ChatServer

    write_jsonl(tmp_path / "in.jsonl", [
        {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "As an AI language model, I cannot."}]},
        {"messages": [{"role": "user", "content": "Add 2 and 3"}, {"role": "assistant", "content": "5"}]},
        {"messages": [{"role": "user", "content": "Name a color"}, {"role": "assistant", "content": "I'm sorry, but I can't do that."}]},
    ])
    with ChatServer() as srv:
        (tmp_path / "loop.yaml").write_text(f"""
name: loop
stages:
  - filter: {{name: filt, inputs: [in.jsonl]}}
  - review: {{name: rev, file: "@filt.rejects"}}
  - distill: {{name: regen, inputs: ["@rev.badcases"], model: m, base_url: "{srv.url}", progress: false}}
""", encoding="utf-8")
        env = {"OPENAI_API_KEY": "sk-test"}
        r = run_cli("run", str(tmp_path / "loop.yaml"), env=env)
        assert r.returncode == 0, r.stderr
        run = tmp_path / "runs" / "loop"
        assert rows(run / "rev.jsonl") == [] and rows(run / "regen.jsonl") == []  # nothing decided yet
        # the annotator reviews the filter's rejects (what `curate review runs/loop/filt.rejects.jsonl` stores)
        s = ReviewSession(run / "filt.rejects.jsonl")
        s.accept(0)
        s.reject(1, "refusal")
        s.close()
        r = run_cli("run", str(tmp_path / "loop.yaml"), env=env)
        assert r.returncode == 0, r.stderr
        assert "[filt] unchanged, skipped" in r.stderr and "[rev]" in r.stderr
        assert len(rows(run / "rev.jsonl")) == 1 and len(rows(run / "rev.badcases.jsonl")) == 1
        regen = rows(run / "regen.jsonl")
        assert len(regen) == 1 and regen[0]["meta"]["regenerated"]["from"] == "review"
        assert regen[0]["messages"][-1]["content"].startswith("Answer to turn 1")
