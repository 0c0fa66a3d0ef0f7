"""`curate filter` end to end: recipes, flags, rejects, manifest counts, determinism, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.filters import DEFAULT_CHAIN, REGISTRY, filter_batch, parse_chain, build_chain
from curator.record import Conversation, Message
from curator.rejects import read_rejects
from tests.conftest import run_cli

ROWS = [
    {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]},
    {"messages": [{"role": "user", "content": "天空是什么颜色？"}, {"role": "assistant", "content": "蓝色。"}]},
    {"messages": [{"role": "user", "content": "Tell me a secret"},
                  {"role": "assistant", "content": "As an AI language model, I cannot share secrets."}]},
    {"messages": [{"role": "user", "content": "说说你的看法"}, {"role": "assistant", "content": "作为一个人工智能，我没有个人观点。"}]},
    {"messages": [{"role": "user", "content": "Write code"}, {"role": "assistant", "content": "```python\nprint(1)\n"}]},
    {"messages": [{"role": "user", "content": "Loop?"},
                  {"role": "assistant", "content": "\n".join(["I will think about this again now."] * 10)}]},
    {"messages": [{"role": "user", "content": "Écrivez une phrase sur la mer, s'il vous plaît."},
                  {"role": "assistant", "content": "La mer est calme et bleue sous le soleil du matin."}]},
    {"messages": [{"role": "user", "content": "联系方式？"}, {"role": "assistant", "content": "请拨打13812345678联系张经理。"}]},
    {"messages": [{"role": "user", "content": "If a pen costs 3 dollars, how much do 4 pens cost?"},
                  {"role": "assistant", "reasoning_content": "4 * 3 = 12", "content": "12 dollars."}],
     "meta": {"reference": "12", "scores": {"helpfulness": 4}}},
    {"messages": [{"role": "user", "content": "How much is 5 times 3?"},
                  {"role": "assistant", "reasoning_content": "5 * 3 = 16", "content": "16"}],
     "meta": {"reference": "15", "scores": {"helpfulness": 2}}},
    {"messages": [{"role": "user", "content": "Think hard: 1+1?"},
                  {"role": "assistant", "reasoning_content": "1+1 is 2, so", "content": ""}]},
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), "utf-8")
    return p


def manifest(out: Path) -> dict:
    return json.loads(out.with_name(out.name.replace(".jsonl", ".manifest.json")).read_text("utf-8"))


def test_default_recipe_drops_bad_records_with_reasons(data, tmp_path):
    out = tmp_path / "out.jsonl"
    r = run_cli("filter", str(data), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rejects = read_rejects(tmp_path / "out.rejects.jsonl")
    by_code = {x["reason"]: x for x in rejects}
    # empty_answer runs before reasoning (both cost 0, recipe order): the empty-answer row is caught there.
    assert set(by_code) == {"refusal", "unbalanced_fence", "repeated_lines", "answer_mismatch", "empty_answer"}
    assert sum(1 for x in rejects if x["reason"] == "refusal") == 2
    for x in rejects:
        assert x["message"].startswith(f"{data}:") and f"filter {x['filter']}:" in x["message"]
        assert x["record"]["messages"] and x["stage"] == "filter"
    assert "'16'" in by_code["answer_mismatch"]["message"] and "'15'" in by_code["answer_mismatch"]["message"]
    m = manifest(out)
    assert m["counts"]["balanced"] and m["counts"]["in"] == len(ROWS) == m["counts"]["out"] + m["counts"]["rejected"]
    per = {f["filter"]: f for f in m["filters"]}
    assert per["refusal"]["dropped"] == 2 and per["refusal"]["by_code"] == {"refusal": 2}
    assert per["length"]["dropped"] == 0
    kept = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert all("filter" in k["meta"]["lineage"] for k in kept)
    assert any(k["messages"][-1]["content"] == "4" for k in kept)  # short answers survive the defaults


def test_flags_lang_pii_score_reasoning(data, tmp_path):
    out = tmp_path / "out.jsonl"
    r = run_cli("filter", str(data), "-o", str(out), "--lang", "en,zh", "--pii", "mask", "--min-score", "helpfulness=3",
                "--require-reasoning", "present")
    assert r.returncode == 0, r.stderr
    kept = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(kept) == 1 and kept[0]["meta"]["reference"] == "12"
    codes = {x["reason"] for x in read_rejects(tmp_path / "out.rejects.jsonl")}
    # Filters of equal cost run in recipe order: reasoning (default recipe) before score (added by the flag).
    assert {"reasoning_missing", "low_score"} <= codes
    out2 = tmp_path / "masked.jsonl"
    assert run_cli("filter", str(data), "-o", str(out2), "--pii", "mask").returncode == 0
    masked = [json.loads(line) for line in out2.read_text("utf-8").splitlines() if "pii_masked" in line]
    assert len(masked) == 1 and "[PHONE]" in masked[0]["messages"][1]["content"]
    assert masked[0]["meta"]["pii_masked"] == {"phone": 1}
    assert manifest(out2)["pii_masked_records"] == 1


def test_deterministic_bytes(data, tmp_path):
    outs = []
    for n in range(2):
        out = tmp_path / f"o{n}.jsonl"
        assert run_cli("filter", str(data), "-o", str(out), "--recipe", "sample_data/filters.yaml").returncode == 0
        outs.append((out.read_bytes(), (tmp_path / f"o{n}.rejects.jsonl").read_bytes().replace(b"o1.", b"o0.")))
    assert outs[0] == outs[1]


def test_sample_recipe_loads_and_labels_duplicates(data, tmp_path):
    out = tmp_path / "out.jsonl"
    r = run_cli("filter", str(data), "-o", str(out), "--recipe", "sample_data/filters.yaml")
    assert r.returncode == 0, r.stderr
    m = manifest(out)
    labels = [f["filter"] for f in m["params"]["filters"]]
    assert "length#2" in labels and labels.index("turns") < labels.index("language")  # cheap first
    assert m["counts"]["balanced"]


@pytest.mark.parametrize("recipe,needle", [
    ("- lenght: {max_chars: 5}\n", "unknown filter 'lenght' — did you mean 'length'?"),
    ("- length: {max_char: 5}\n", "has no parameter 'max_char' — did you mean 'max_chars'?"),
    ("- length: {max_chars: lots}\n", "parameter 'max_chars' should be"),
    ("- refusal: {action: explode}\n", "action 'explode': choose drop or tag"),
    ("- language: {roles: [asistant]}\n", "did you mean 'assistant'?"),
    ("length: 5\n", "expected a list of filters"),
    ("- length: [1, 2]\n", "parameters must be a mapping"),
    ("- [unclosed\n", "not valid YAML"),
    ("- user: {function: 'os.path'}\n", "expected module:function"),
    ("- score: {key: helpfulness}\n", "set min and/or max"),
])
def test_recipe_errors_exit_2_with_a_clear_message(data, tmp_path, recipe, needle):
    rp = tmp_path / "r.yaml"
    rp.write_text(recipe, "utf-8")
    out = tmp_path / "out.jsonl"
    r = run_cli("filter", str(data), "-o", str(out), "--recipe", str(rp))
    assert r.returncode == 2
    assert needle in " ".join(r.stderr.split()), r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_usage_errors(data, tmp_path):
    r = run_cli("filter", str(data), "-o", str(tmp_path / "o.jsonl"), "--min-score", "oops")
    assert r.returncode == 2 and "KEY=NUMBER" in r.stderr
    r = run_cli("filter", str(data), "-o", str(tmp_path / "o.jsonl"), "--max-tokens", "5")
    assert r.returncode == 2 and "tokenizer" in r.stderr
    r = run_cli("filter", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_user_filter_exception_is_a_usage_error(data, tmp_path):
    (tmp_path / "buggy.py").write_text("def f(conv):\n    return 1 / 0\n", "utf-8")
    rp = tmp_path / "r.yaml"
    rp.write_text("- user: {function: 'buggy:f'}\n", "utf-8")
    r = run_cli("filter", str(data), "-o", str(tmp_path / "o.jsonl"), "--recipe", str(rp),
                env={"PYTHONPATH": f"{Path(__file__).resolve().parent.parent}:{tmp_path}"})
    assert r.returncode == 2 and "ZeroDivisionError" in r.stderr and "Traceback" not in r.stderr


def test_list_prints_every_filter_and_default():
    r = run_cli("filter", "--list")
    assert r.returncode == 0
    for name in REGISTRY:
        assert f"\n{name}  (" in "\n" + r.stdout
    assert "min_chars: int | None = 1" in r.stdout


def test_filter_batch_is_pure_and_balanced():
    convs = [Conversation.from_dict(r) for r in ROWS]
    before = [c.to_dict() for c in convs]
    recipe = parse_chain([{"pii": {"action": "mask"}}, {"refusal": {"action": "tag"}}, "language"])
    kept, dropped = filter_batch(convs, recipe)
    assert len(kept) + len(dropped) == len(convs)
    assert [c.to_dict() for c in convs] == before  # nothing edited in place
    again = filter_batch(convs, recipe)
    assert [c.to_dict() for c in kept] == [c.to_dict() for c in again[0]]
    assert [(d.filter, d.code, d.message) for d in dropped] == [(d.filter, d.code, d.message) for d in again[1]]
    assert any("refusal" in c.meta.get("tags", []) for c in kept)


def test_default_recipe_on_real_data_is_balanced(real, tmp_path):
    out = tmp_path / "out.jsonl"
    r = run_cli("filter", str(real / "alpaca_en_demo.json"), str(real / "alpaca_zh_demo.json"),
                str(real / "identity.json"), "-o", str(out), "--lang", "en,zh")
    assert r.returncode == 0, r.stderr
    m = manifest(out)
    assert m["counts"]["balanced"] and m["counts"]["in"] == 999 + 1000 + 91
    # identity.json's {{name}} placeholders are rejected by the reader; the filters see the rest.
    assert m["counts"]["rejected_by_reason"]["placeholder"] >= 80
    assert m["counts"]["out"] > 1900


def test_pipeline_orders_cheap_first():
    chain = build_chain([("language", {}), ("repetition", {}), ("turns", {})])
    assert chain.labels == ["turns", "repetition", "language"]
    assert [n for n, _ in DEFAULT_CHAIN][0] == "turns"
    conv = Conversation([Message("user", "hi"), Message("assistant", "hello")])
    assert chain.filter_batch([conv])[0][0] is conv  # no copy without an editing filter
