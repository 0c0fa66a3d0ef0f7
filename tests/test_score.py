"""`curate score` end to end through the real CLI."""

from __future__ import annotations

import json

from curator.rejects import manifest_path, read_rejects, rejects_path
from tests.conftest import run_cli


def rows(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_score_rules_and_recipe(sample, tmp_path):
    src = tmp_path / "in.jsonl"
    data = [
        {"messages": [{"role": "user", "content": "什么是光合作用？"},
                      {"role": "assistant", "content": "光合作用是植物利用光能合成有机物、释放氧气的过程。"}]},
        {"messages": [{"role": "user", "content": "Write a haiku about the sea."},
                      {"role": "assistant", "content": "I'm sorry, but I can't write poems."}]},
        {"messages": [{"role": "user", "content": "Only a prompt, no answer yet."}]},
        {"messages": [{"role": "user", "content": "小明有5个苹果，吃了2个，还剩几个？"},
                      {"role": "assistant", "content": "还剩3个苹果。", "reasoning_content": "5-2=3"}],
         "meta": {"reference": "3"}},
    ]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in data) + "\n", encoding="utf-8")
    out = tmp_path / "scored.jsonl"
    r = run_cli("score", str(src), "-o", str(out), "--rubric", "no_refusal", "--rubric",
                str(sample / "rubric_recipe.yaml"), "--rubric", "answer_matches_reference")
    assert r.returncode == 0, r.stderr
    got = rows(out)
    assert len(got) == 3
    s0, s1, s3 = (g["meta"]["scores"] for g in got)
    assert s0["no_refusal"] == 1.0 and s0["quality"] == 1.0 and s0["language_match"] == 1.0
    assert s1["no_refusal"] == 0.0 and s1["quality"] is None
    assert got[1]["meta"]["score_details"]["quality"]["status"] == "gated"
    assert s3["answer_matches_reference"] == 1.0 and s0["answer_matches_reference"] == 0.0
    rej = read_rejects(rejects_path(out))
    assert [x["reason"] for x in rej] == ["no_assistant"] and rej[0]["line"] == 3
    man = json.loads(manifest_path(out).read_text())
    assert man["counts"]["balanced"] and man["counts"]["in"] == 4
    assert man["verdicts"]["no_refusal:passed"] == 2 and man["verdicts"]["quality:gated"] == 1
    # Deterministic: the same command gives byte-identical output.
    out2 = tmp_path / "scored2.jsonl"
    run_cli("score", str(src), "-o", str(out2), "--rubric", "no_refusal", "--rubric",
            str(sample / "rubric_recipe.yaml"), "--rubric", "answer_matches_reference")
    assert out2.read_bytes() == out.read_bytes()


def test_score_usage_errors(sample, tmp_path):
    out = tmp_path / "o.jsonl"
    r = run_cli("score", str(sample / "messages.jsonl"), "-o", str(out), "--rubric", "no_refusl")
    assert r.returncode == 2 and "did you mean 'no_refusal'" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("score", str(sample / "messages.jsonl"), "-o", str(out), "--rubric", "helpfulness")
    assert r.returncode == 2 and "--judge-model" in r.stderr
