"""Issue #18: defaults that dropped good data, stages that contradicted each other, inputs annotators
have (rejects, badcases, CSV/TSV/xlsx, a JSON array saved as .jsonl). Real filters, real readers, the
real CLI in a subprocess and the loopback chat server."""

from __future__ import annotations

import json

import pytest

from curator import lexicon
from curator.errors import UsageError
from curator.filters.from_params import build
from curator.filters.pii import find_pii
from curator.io import read_records
from curator.record import Conversation, Message
from curator.rejects import RejectSink, manifest_path, read_rejects, rejects_path
from rubrics.rules import RULES
from tests.conftest import run_cli


def chat(user: str, answer: str, **meta) -> Conversation:
    return Conversation([Message("user", user), Message("assistant", answer)], meta=dict(meta))


def rows(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    return path


# -- language ---------------------------------------------------------------------------------
def test_language_codes_aliases_and_unknown():
    assert lexicon.normalize_langs(["cn", "zh-CN", "zh-Hans", "en-US", "eng", "pt-BR"]) == ["zh", "en", "pt"]
    with pytest.raises(UsageError, match="unknown language code 'xx'"):
        lexicon.normalize_lang("xx")
    flt = build("language", {"allowed": ["cn"]}, "t")
    assert flt.filter(chat("生成与电动汽车相关的适当关键词。", "电动汽车、充电桩、续航里程、锂电池。")) is True
    with pytest.raises(UsageError):
        build("language", {"allowed": ["xx"]}, "t")


def test_language_decided_by_prompt_answer_second_opinion():
    flt = build("language", {"allowed": ["en"]}, "t")
    # An instruction asking for another language allows it.
    spanish = chat("Translate into Spanish: The weather is lovely today and we are going to the beach.",
                   "El tiempo está precioso hoy y vamos a ir a la playa con toda la familia.")
    assert flt.filter(spanish) is True
    # A foreign text to translate into English is an English task (the answer's opinion).
    french = chat("Bonjour, je m'appelle Marie et j'habite à Paris depuis dix ans avec ma famille.",
                  "Hello, my name is Marie and I have lived in Paris for ten years with my family.")
    assert flt.filter(french) is True
    # A confident wrong-language answer to an English prompt is still dropped.
    zh = chat("Describe the water cycle in a few sentences for a school report.",
              "水循环是指水在地球上不断蒸发、凝结、降水和径流的过程，它维持着地球上的生命。")
    v = flt.filter(zh)
    assert v is not True and v.code == "wrong_language"


@pytest.mark.slow
def test_language_never_drops_real_english_sets(real):
    """GSM8K answers and alpaca_en were dropped as it/es/nl at low confidence on main."""
    flt = build("language", {"allowed": ["en"]}, "t")
    for name in ("gsm8k_train_alpaca.json", "alpaca_en_demo.json"):
        sink = RejectSink(None)
        convs = list(read_records(real / name, rejects=sink))
        dropped = [c for c in convs if flt.filter(c) is not True]
        assert not dropped, (name, [c.answer_text()[:60] for c in dropped[:3]])


# -- PII, placeholders, refusals ---------------------------------------------------------------
def test_pii_inside_cjk_text_and_terminal_count(tmp_path):
    assert [k for k, _, _ in find_pii("邮箱zhangsan@example.com")] == ["email"]
    assert [k for k, _, _ in find_pii("电话13812345678")] == ["phone"]
    assert [k for k, _, _ in find_pii("请拨打555-123-4567联系")] == ["phone"]
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"messages": [{"role": "user", "content": "怎么联系你们？"},
                      {"role": "assistant", "content": "请发邮件到邮箱zhangsan@example.com或拨打电话13812345678。"}]},
        {"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！有什么可以帮你？"}]},
    ])
    out = tmp_path / "out.jsonl"
    r = run_cli("filter", str(src), "-o", str(out), "--pii", "mask")
    assert r.returncode == 0, r.stderr
    got = rows(out)
    assert got[0]["messages"][1]["content"] == "请发邮件到邮箱[EMAIL]或拨打电话[PHONE]。"
    assert "masked PII in 1 kept record" in r.stderr


@pytest.mark.parametrize("user,answer,flagged", [
    ("Differentiate x^2.", "We use $\\frac{d}{dx} x^2 = 2x$, so the answer is 2x.", False),
    ("Differentiate x^2.", "The derivative \\frac{d}{dx} x^2 is 2x.", False),
    ("Greet in Python.", 'Use an f-string: print(f"Hello {name}") prints the greeting.', False),
    ("写一封请假信的模板", "尊敬的【领导姓名】：\n我因身体不适，需请假一天。", False),
    ("给领导写信，抬头用【领导姓名】", "尊敬的【领导姓名】：您好！", False),
    ("Write a letter.", "Dear [Your Name], thanks for everything.", True),
    ("Write a letter.", "Hello {{customer_name}}, welcome aboard.", True),
    ("写一封信", "您好，【此处填写姓名】先生。", True),
])
def test_placeholders_same_verdict_everywhere(user, answer, flagged):
    conv = chat(user, answer)
    flt = build("placeholder", {}, "t")
    assert (flt.filter(conv) is not True) is flagged
    assert (not RULES["no_placeholders"](conv, conv.messages[-1]).passed) is flagged
    from curator.validate import first_problem

    p = first_problem(conv)
    assert p is None or (p.code == "placeholder" and flagged)


@pytest.mark.parametrize("answer,refusal", [
    ("I can't book flights, but I can help you check the weather at your destination.", False),
    ("抱歉，我无法直接预订机票，但我可以帮你查询航班信息。", False),
    ("I'm sorry, but I can't help with that request.", True),
    ("As an AI language model, I do not have opinions.", True),
    ("很抱歉，我不能回答这个问题。", True),
])
def test_refusal_helpful_decline_same_verdict_everywhere(answer, refusal):
    conv = chat("Book me a flight to Paris.", answer)
    assert (build("refusal", {}, "t").filter(conv) is not True) is refusal
    assert (not RULES["no_refusal"](conv, conv.messages[-1]).passed) is refusal


def test_tool_calling_declines_kept_on_real_data(real):
    """glaive tool-calling demo: correct out-of-scope declines are not refusals."""
    flt = build("refusal", {}, "t")
    convs = list(read_records(real / "glaive_toolcall_en_demo.json", rejects=RejectSink(None)))
    declines = [c for c in convs if lexicon.find_refusal(c.answer_text(), helpful_declines=False)]
    dropped = [c for c in declines if flt.filter(c) is not True]
    assert declines and len(dropped) < len(declines) / 2, (len(declines), len(dropped))


# -- inputs: rejects, JSON array as .jsonl, CSV / TSV / xlsx -----------------------------------
def test_rejects_file_reads_back_as_input(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"instruction": "Say hi", "output": "As an AI language model, I cannot."},
        {"instruction": "Add 2 and 3", "output": "5"},
    ])
    with (tmp_path / "in.jsonl").open("a") as fh:
        fh.write("not json\n")
    out = tmp_path / "f.jsonl"
    assert run_cli("filter", str(src), "-o", str(out)).returncode == 0
    rej = rejects_path(out)
    conv_out = tmp_path / "c.jsonl"
    r = run_cli("convert", str(rej), "-o", str(conv_out))
    assert r.returncode == 0, r.stderr
    assert "detected format rejects" in r.stderr
    got = rows(conv_out)
    assert len(got) == 1 and got[0]["meta"]["rejected"]["reason"] == "refusal"
    again = read_rejects(rejects_path(conv_out))
    assert [x["reason"] for x in again] == ["invalid_json"] and "fix the original line" in again[0]["message"]
    man = json.loads(manifest_path(conv_out).read_text())
    assert man["counts"]["in"] == man["counts"]["out"] + man["counts"]["rejected"]


def test_json_array_saved_as_jsonl(tmp_path):
    p = tmp_path / "arr.jsonl"
    p.write_text('[\n {"instruction": "a", "output": "b"},\n {"instruction": "c", "output": "d"}\n]\n')
    assert [c.messages[0].content for c in read_records(p)] == ["a", "c"]
    # on one line it stays one row in (in = out + rejects), and the reject says what it is
    one = tmp_path / "one.jsonl"
    one.write_text('[{"instruction": "a", "output": "b"}, {"instruction": "c", "output": "d"}]\n')
    sink = RejectSink(None)
    assert list(read_records(one, "alpaca", rejects=sink)) == [] and len(sink) == 1
    assert "a JSON array of 2 objects on one line" in sink.examples["bad_structure"][0]["message"]


def test_csv_tsv_xlsx_with_column_mapping(tmp_path):
    csv = tmp_path / "sheet.csv"
    csv.write_bytes("\ufeff问题,答案,类别\n\"多行\n问题\",答案一,a\n,,\n问题二,答案二,b\n".encode("utf-8"))
    out = tmp_path / "csv.jsonl"
    r = run_cli("convert", str(csv), "-o", str(out), "--map", "instruction=问题", "--map", "output=答案")
    assert r.returncode == 0, r.stderr
    got = rows(out)
    assert [g["messages"][0]["content"] for g in got] == ["多行\n问题", "问题二"]
    assert got[0]["meta"]["extra"] == {"类别": "a"}
    tsv = tmp_path / "sheet.tsv"
    tsv.write_text("instruction\tinput\toutput\nAdd\t2 and 3\t5\n", encoding="utf-8")
    assert [c.messages[-1].content for c in read_records(tsv)] == ["5"]
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["instruction", "output"])
    wb.active.append(["Add 2 and 3", 5])
    wb.active.append(["翻译成英文：你好", "Hello"])
    wb.save(tmp_path / "sheet.xlsx")
    convs = list(read_records(tmp_path / "sheet.xlsx"))
    assert [c.messages[-1].content for c in convs] == ["5", "Hello"]
    assert convs[1].origin[1] == 3  # spreadsheet row numbers (header is row 1)


def test_every_row_rejected_is_loud(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text("nope\nstill nope\n")
    r = run_cli("convert", str(p), "-o", str(tmp_path / "o.jsonl"))
    assert "every one of the 2 input rows was rejected" in r.stderr
    assert json.loads(manifest_path(tmp_path / "o.jsonl").read_text())["counts"]["all_rejected"] is True


# -- filter keeps reviewed ---------------------------------------------------------------------
def test_filter_keeps_reviewer_accepted_unless_recheck(tmp_path):
    src = write_jsonl(tmp_path / "acc.jsonl", [
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "I'm sorry, but I can't do that."}],
         "meta": {"review": {"status": "accepted"}}},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "I'm sorry, but I can't do that!"}]},
    ])
    out = tmp_path / "o.jsonl"
    r = run_cli("filter", str(src), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert len(rows(out)) == 1 and "1 record(s) accepted in review kept" in r.stderr
    man = json.loads(manifest_path(out).read_text())
    assert man["kept_reviewed"] == 1 and man["counts"]["rejected"] == 1 and man["counts"]["balanced"]
    r = run_cli("filter", str(src), "-o", str(tmp_path / "o2.jsonl"), "--recheck-reviewed")
    assert r.returncode == 0 and not rows(tmp_path / "o2.jsonl")


# -- stages that contradicted each other: best-of-K, distill ------------------------------------
def test_bestofk_previous_answer_is_not_a_reference_and_pairs_need_a_margin(tmp_path):
    from tests.scripted_server import ScriptedServer

    src = write_jsonl(tmp_path / "p.jsonl", [
        # an old free-text answer: kept as previous_answer, not compared as a reference
        {"messages": [{"role": "user", "content": "Explain tides. CANDS: The moon pulls water. Q=7 | Gravity. Q=3"},
                      {"role": "assistant", "content": "An old answer about tides."}]},
        # a GSM8K gold answer stays the reference
        {"messages": [{"role": "user", "content": "What is 2+3? CANDS: Q=8 so it is 5. | Q=6 so it is 4."},
                      {"role": "assistant", "content": "2+3=5\n#### 5"}]},
        # a tie: chosen and rejected score the same -> no pair, counted
        {"messages": [{"role": "user", "content": "Name a color. CANDS: Red. Q=5 | Blue. Q=5"}]},
    ])
    out = tmp_path / "best.jsonl"
    pairs = tmp_path / "pairs.jsonl"
    with ScriptedServer() as srv:
        r = run_cli("bestofk", str(src), "-o", str(out), "--model", "m", "--base-url", srv.url, "--k", "2",
                    "--rubric", "tests.rubric_funcs:quality_tag", "--pairs", str(pairs),
                    env={"OPENAI_API_KEY": "sk-test"})
    assert r.returncode == 0, r.stderr
    got = rows(out)
    assert got[0]["meta"]["previous_answer"] == "An old answer about tides." and "reference" not in got[0]["meta"]
    assert got[1]["meta"]["reference"] == "2+3=5\n#### 5"
    p = rows(pairs)
    assert [x["meta"]["margin"] for x in p] == [4.0, 2.0]
    assert all(x["meta"]["score_chosen"] > x["meta"]["score_rejected"] for x in p)
    man = json.loads(manifest_path(out).read_text())
    assert man["bestofk"]["pairs"] == 2 and man["bestofk"]["pairs_skipped"] == {"no_margin": 1}
    assert "1 skipped (1 no margin" in r.stderr
    # the default filter keeps what best-of-K chose (no answer_mismatch against an old answer)
    f = tmp_path / "f.jsonl"
    r = run_cli("filter", str(out), "-o", str(f))
    assert r.returncode == 0 and len(rows(f)) == 3, r.stderr


@pytest.mark.slow
def test_distill_regenerates_rejected_answers_and_says_so(tmp_path):
    from tests.chat_server import ChatServer

    src = write_jsonl(tmp_path / "in.jsonl", [
        {"instruction": "Say hi", "output": "As an AI language model, I cannot."},
        {"instruction": "Add 2 and 3", "output": "5"},
    ])
    f = tmp_path / "f.jsonl"
    assert run_cli("filter", str(src), "-o", str(f)).returncode == 0
    bad = write_jsonl(tmp_path / "badcases.jsonl", [
        {"messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Lyon"}],
         "meta": {"review": {"status": "rejected", "reason": "wrong"}}},
        {"messages": [{"role": "user", "content": "Capital of Italy?"}, {"role": "assistant", "content": "Rome"}]},
        {"messages": [{"role": "user", "content": "Capital of Spain?"}]},
    ])
    out = tmp_path / "d.jsonl"
    with ChatServer() as srv:
        r = run_cli("distill", str(rejects_path(f)), str(bad), "-o", str(out), "--model", "m", "--base-url", srv.url,
                    "--no-progress", env={"OPENAI_API_KEY": "sk-test"})
        assert r.returncode == 0, r.stderr
        assert "1 filled, 2 regenerated (answer was rejected), 1 passed through" in r.stderr
        got = {g["messages"][0]["content"]: g for g in rows(out)}
        assert got["Say hi"]["messages"][-1]["content"].startswith("Answer to turn 1")
        assert got["Say hi"]["meta"]["previous_answer"] == "As an AI language model, I cannot."
        assert got["Say hi"]["meta"]["regenerated"]["reason"] == "refusal" and "rejected" not in got["Say hi"]["meta"]
        assert got["Capital of France?"]["meta"]["regenerated"]["from"] == "review"
        assert "review" not in got["Capital of France?"]["meta"]
        assert got["Capital of Italy?"]["messages"][-1]["content"] == "Rome"
        man = json.loads(manifest_path(out).read_text())
        assert man["answers"] == {"filled": 1, "regenerated": 2, "passed": 1} and man["counts"]["balanced"]
        r = run_cli("distill", str(bad), "-o", str(tmp_path / "k.jsonl"), "--model", "m", "--base-url", srv.url,
                    "--no-progress", "--keep-rejected-answers", env={"OPENAI_API_KEY": "sk-test"})
        assert "0 regenerated" in r.stderr and "2 passed through" in r.stderr


def test_language_match_rubric_takes_the_same_codes():
    conv = chat("Say hello", "你好！很高兴见到你。")
    assert RULES["language_match"](conv, conv.messages[-1], expected="zh-CN").passed
    assert not RULES["language_match"](conv, conv.messages[-1], expected="en-US").passed
    with pytest.raises(UsageError):
        RULES["language_match"](conv, conv.messages[-1], expected="xx")


def test_score_says_unparseable_verdicts_on_the_terminal(tmp_path):
    from tests.scripted_server import ScriptedServer

    src = write_jsonl(tmp_path / "a.jsonl", [
        {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hello! Q=8"}]},
        {"messages": [{"role": "user", "content": "Say bye"}, {"role": "assistant", "content": "Bye. Q=bad"}]},
    ])
    with ScriptedServer() as srv:
        r = run_cli("score", str(src), "-o", str(tmp_path / "s.jsonl"), "--rubric", "helpfulness",
                    "--judge-model", "judge", "--judge-base-url", srv.url, "--judge-retries", "0",
                    env={"OPENAI_API_KEY": "sk-test"})
    assert r.returncode == 0, r.stderr
    assert "helpfulness: 1 verdict(s) unparseable" in r.stderr


def test_a_message_dict_reference_is_compared_by_its_text():
    """`train generate` keeps the eval answer as a message; it used to be compared as "{'role': ...}"."""
    conv = Conversation([Message("user", "2+2?"), Message("assistant", "It is 5")],
                        meta={"reference": {"role": "assistant", "content": "4"}})
    v = build("answer_match", {}, "t").filter(conv)
    assert v is not True and "reference at meta.reference is '4'" in v.message
    assert RULES["answer_matches_reference"](conv, conv.messages[-1]).explanation == "last number 5, reference 4"
