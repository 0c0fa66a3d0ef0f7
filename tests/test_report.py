"""curate report: the numbers for every sample and real file, HTML that is self-contained and
escaped, side-by-side mode, rejects/scores/generation/reasoning sections, and a look at the page
in headless Chromium when it is installed."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from curator.report import describe
from curator.report.accum import Distinct, LogHistogram
from curator.report.html import render
from curator.report.lang import script_language
from curator.report.profile import first_word
from tests.conftest import ROOT, run_cli

DATA_SUFFIXES = (".json", ".jsonl")
# records / invalid rows, as `curate stats` and the data's README give them
SAMPLE_EXPECTED = {"alpaca.json": 10, "fastchat.json": 2, "messages.jsonl": 5, "prompt_completion.jsonl": 3,
                   "prompts.jsonl": 4, "reasoning_ark.jsonl": 2, "reasoning_r1.jsonl": 2, "sharegpt.json": 4,
                   "general.jsonl": 12}


def sample_files(sample: Path) -> list[Path]:
    return sorted(p for p in sample.iterdir() if p.suffix in DATA_SUFFIXES)


def test_every_sample_file(sample):
    files = sample_files(sample)
    assert {p.name for p in files} == set(SAMPLE_EXPECTED)
    for p in files:
        d = describe(p)
        assert d["records"] == SAMPLE_EXPECTED[p.name], p.name
        assert d["records"] + d["invalid_rows"] == d["rows"]
        html = render([d])
        assert f"<td>{d['records']}</td>" in html
    for name in ("reasoning_r1.jsonl", "reasoning_ark.jsonl"):
        d = describe(sample / name)
        assert d["reasoning"]["share"] == 1.0 and d["reasoning"]["with"] == 2 and not d["reasoning"]["mixed"]
        assert d["reasoning"]["chars"]["n"] == 2 and d["reasoning"]["chars"]["max"] > 10
    # curator.langid with the language filter's defaults: "What is 15% of 80?" (18 characters, answer
    # "12") is too short to call, as `curate filter --lang` would also say
    for name, langs in (("reasoning_r1.jsonl", {"en": 1, "zh": 1}), ("reasoning_ark.jsonl", {"und": 1, "zh": 1})):
        assert describe(sample / name)["languages"] == langs
    assert describe(sample / "prompts.jsonl")["no_answer"] == 4


def test_bad_files_counted_not_described(sample):
    d = describe(sample / "bad" / "bad_rows.jsonl")
    assert d["invalid_rows"] >= 10 and d["invalid_by_reason"]["unterminated_think"] == 1
    assert d["records"] + d["invalid_rows"] == d["rows"]
    r = run_cli("report", str(sample / "bad" / "broken_array.json"), "-o", "/dev/null")
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.slow
def test_real_files(real, tmp_path):
    expected = {"alpaca_en_demo.json": 999, "alpaca_zh_demo.json": 1000, "glaive_toolcall_en_demo.json": 300,
                "glaive_toolcall_zh_demo.json": 298, "identity.json": 6, "fastchat_dummy_conversation.json": 500,
                "gsm8k_train_alpaca.json": 7473, "v1_sft_demo.jsonl": 450, "mt_bench_question.jsonl": 0}
    seen = 0
    for p in sorted(real.iterdir()):
        if p.suffix not in DATA_SUFFIXES:
            continue
        d = describe(p)
        seen += 1
        assert d["records"] + d["invalid_rows"] == d["rows"], p.name
        if p.name in expected:
            assert d["records"] == expected[p.name], p.name
        assert "<svg" in render([d]) or d["records"] == 0
    assert seen == 15
    g_en = describe(real / "glaive_toolcall_en_demo.json")
    assert g_en["tool_calling"] == 191 and g_en["tool_calling_share"] == round(191 / 300, 4)
    assert describe(real / "glaive_toolcall_zh_demo.json")["tool_calling"] == 198
    assert describe(real / "identity.json")["invalid_by_reason"] == {"placeholder": 85}
    zh = describe(real / "alpaca_zh_demo.json")
    assert zh["languages"]["zh"] >= 990
    assert describe(real / "alpaca_en_demo.json")["languages"]["en"] >= 990
    assert describe(real / "fastchat_dummy_conversation.json")["multi_turn"] == 333


@pytest.mark.slow
def test_cli_compare_json_and_html(real, tmp_path):
    a, b = real / "gpteacher_toolformer_dedupe_only.json", real / "gpteacher_toolformer_similarity_0.6.json"
    out, js = tmp_path / "cmp.html", tmp_path / "cmp.json"
    r = run_cli("report", str(a), str(b), "-o", str(out), "--json", str(js))
    assert r.returncode == 0, r.stderr
    data = json.loads(js.read_text())["inputs"]
    assert [d["records"] for d in data] == [7673, 2396]
    html = out.read_text()
    assert "7673" in html and "2396" in html and html.count("<svg") > 10
    # self-contained: no external resource of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) and "<script" not in html
    assert "7673" in r.stderr and "records" in r.stderr  # the terminal summary


def test_rejects_scores_generation_and_escaping(tmp_path):
    inp = tmp_path / "cur.jsonl"
    evil = "</svg><script>alert(1)</script>"
    rows = []
    for i in range(10):
        meta = {"scores": {"quality": i / 10}, "tags": [evil if i == 0 else "math"],
                "generation": {"finish_reason": "length" if i < 3 else "stop",
                               "usage": {"prompt_tokens": 10 + i, "completion_tokens": 100}}}
        msgs = [{"role": "user", "content": (evil if i == 0 else f"Explain item {i}")},
                {"role": "assistant", "content": f"answer {i}"}]
        if i % 2:
            msgs[1]["reasoning_content"] = "think " * (i + 1)
        rows.append({"messages": msgs, "meta": meta})
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "cur.rejects.jsonl").write_text(
        "".join(json.dumps({"reason": r, "message": "x"}) + "\n" for r in ("near_duplicate", "near_duplicate", "too_long")))
    d = describe(inp)
    assert d["rejects_file"]["by_reason"] == {"near_duplicate": 2, "too_long": 1}
    assert d["scores"]["quality"]["n"] == 10 and d["scores"]["quality"]["max"] == 0.9
    assert d["generation"]["finish_reasons"] == {"stop": 7, "length": 3}
    assert d["generation"]["usage"]["completion_tokens"]["n"] == 10
    assert d["reasoning"]["with"] == 5 and d["reasoning"]["mixed"]
    assert d["diversity"]["first_words"][0] == ("explain", 9)
    html = render([d])
    assert "<script" not in html and "&lt;script&gt;" in html
    for section in ("Scores", "Generation", "near_duplicate", "mixed set"):
        assert section in html


@pytest.mark.slow
def test_tokenizer_lengths(tmp_path, sample):
    pytest.importorskip("transformers")
    from trainer.tiny import build_tiny_model

    tok_dir = tmp_path / "tiny"
    build_tiny_model(tok_dir)
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    r = run_cli("report", str(sample / "reasoning_ark.jsonl"), "-o", str(out), "--json", str(js),
                "--tokenizer", str(tok_dir))
    assert r.returncode == 0, r.stderr
    d = json.loads(js.read_text())
    assert d["tokens_per_role"]["assistant"]["n"] == 2 and d["reasoning"]["tokens"]["n"] == 2
    assert "tokens per message" in out.read_text()


def test_accumulators_and_helpers():
    h = LogHistogram()
    for x in range(1, 1001):
        h.add(x)
    assert h.n == 1000 and h.min == 1 and h.max == 1000
    assert 450 <= h.quantile(0.5) <= 600 and sum(c for _, c in h.octaves()) == 1000
    k = Distinct(k=256)
    for i in range(100):
        k.add(str(i % 50))
    assert k.estimate() == 50  # exact below k
    for i in range(20000):
        k.add(f"x{i}")
    assert abs(k.estimate() - 20050) / 20050 < 0.2
    assert script_language("小明有5个苹果") == "zh" and script_language("Write a poem") == "latin"
    assert script_language("これはペンです") == "ja" and script_language("12345") == "none"
    assert first_word("写一首诗") == "写" and first_word("Write a poem.") == "write"  # jieba segments Chinese
    assert first_word("解释为什么天空是蓝色的") == "解释" and first_word("请问如何学习Python") == "请问"


@pytest.mark.slow
def test_screenshot_in_chromium(tmp_path, sample):
    sys.path.insert(0, str(ROOT / "scripts"))
    from report_screenshot import find_chromium, screenshot

    if find_chromium() is None:
        pytest.skip("no chromium installed")
    out = tmp_path / "r.html"
    assert run_cli("report", str(sample / "sharegpt.json"), str(sample / "messages.jsonl"), "-o", str(out)).returncode == 0
    png = tmp_path / "r.png"
    screenshot(out, png, 1280, 1600)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a rendered page, not a blank one


@pytest.mark.slow
def test_near_duplicate_rate_matches_dedup(tmp_path):
    """The report's near-duplicate count uses dedup's machinery: a reworded copy is counted."""
    import orjson

    from tests.conftest import run_cli

    rows = [
        {"messages": [{"role": "user", "content": "Explain how photosynthesis turns sunlight into chemical energy in plants."},
                      {"role": "assistant", "content": "Plants capture light with chlorophyll and use it to turn CO2 and water into glucose and oxygen."}]},
        {"messages": [{"role": "user", "content": "Explain how photosynthesis turns sunlight into chemical energy in plants!"},
                      {"role": "assistant", "content": "Plants capture light with chlorophyll and use it to turn CO2 and water into glucose and oxygen."}]},
        {"messages": [{"role": "user", "content": "用一句话介绍长城。"}, {"role": "assistant", "content": "长城是中国古代的防御工程。"}]},
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    res = run_cli("report", str(src), "-o", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json"))
    assert res.returncode == 0, res.stderr
    dups = orjson.loads((tmp_path / "r.json").read_bytes())
    dups = dups.get("duplicates") or dups["files"][0]["duplicates"]
    assert dups["near_records"] == 1 and dups["exact_records"] == 0
    assert "near-duplicate records" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_tool_call_turns_are_not_empty_answers_and_the_prompt_decides_the_language():
    from curator.record import Conversation, Message
    from curator.report.profile import DatasetProfile

    call = [{"id": "call_0", "type": "function", "function": {"name": "weather", "arguments": '{"city": "北京"}'}}]
    conv = Conversation([Message("user", "北京今天的天气怎么样？需要带伞吗？"), Message("assistant", "", tool_calls=call),
                         Message("tool", '{"rain": true}', tool_call_id="call_0"),
                         Message("assistant", "It will rain in Beijing today, so take an umbrella with you.")], id="t")
    rs = DatasetProfile()
    rs.add(conv)
    d = rs.to_dict()
    assert d["chars_per_role"]["assistant"]["n"] == 1 and d["chars_per_role"]["assistant"]["min"] > 0
    assert d["tool_call_turns"] == 1
    assert d["languages"] == {"zh": 1}  # the prompt's language, as `curate filter --lang` decides
    assert d["diversity"]["first_words"][0][0] == "北京"
