"""Practice checks on crafted data: every data rule tripped and passed, the YAML overrides, the
report section (HTML, terminal, --json) and `curate run` printing the checks after a stage."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from curator.errors import UsageError
from curator.practice import PracticeConfig, PracticeFacts, data_checks, load_practice_config
from curator.practice.config import practice_config_from
from curator.practice.coverage import near_coverage
from curator.practice.checks import badcase_coverage
from curator.practice.rules import RULES
from curator.record import Conversation
from tests.conftest import ROOT, run_cli

WORDS = ("apple river cloud stone tiger lamp violin garden rocket pencil orange winter mirror castle "
         "forest bottle candle dragon island jacket kettle ladder magnet needle ocean parrot quartz").split()


def text(i: int, n: int = 8) -> str:
    """A distinct sentence per i (no two are near-duplicates of each other)."""
    return " ".join(WORDS[(i * 7 + k * (i % 5 + 3)) % len(WORDS)] + str(i * 31 + k) for k in range(n))


def rec(prompt: str, answer: str, *, system: str | None = None, reasoning: str | None = None, rid: str = "",
        **meta) -> Conversation:
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    a = {"role": "assistant", "content": answer}
    if reasoning:
        a["reasoning_content"] = reasoning
    return Conversation.from_dict({"id": rid, "messages": msgs + [a], "meta": meta})


def run_checks(records, cfg: PracticeConfig | None = None) -> dict:
    cfg = cfg or PracticeConfig()
    st = PracticeFacts(cfg)
    for r in records:
        st.add(r)
    return {c.id: c for c in data_checks(st, cfg)}


def plain(n: int, **kw) -> list[Conversation]:
    return [rec(f"question {text(i)}", f"answer {text(i + 1000, 12)}", **kw) for i in range(n)]


# ------------------------------------------------------------------------------------ general share
def test_general_share_trips_below_15_percent_and_passes_at_20():
    low = plain(95, source="domain") + [rec(f"chat {text(i + 500)}", text(i + 600), source="general")
                                        for i in range(5)]
    c = run_checks(low)["general_share"]
    assert c.status == "warn" and c.value == 0.05 and "5 of 100" in c.measured["en"]
    ok = plain(80, source="domain") + [rec(f"chat {text(i + 500)}", text(i + 600), source="general")
                                       for i in range(20)]
    assert run_checks(ok)["general_share"].status == "ok"


def test_general_share_uses_the_sources_the_user_marks_and_skips_a_single_source():
    recs = plain(70, source="domain") + [rec(f"chat {text(i + 500)}", text(i + 600), source="alpaca_zh")
                                         for i in range(30)]
    assert run_checks(recs)["general_share"].status == "warn"  # alpaca_zh is not called general
    cfg = practice_config_from({"general_sources": ["alpaca_*"]})
    c = run_checks(recs, cfg)["general_share"]
    assert c.status == "ok" and c.value == 0.3
    assert run_checks(plain(10, source="domain"))["general_share"].status == "skip"


# ------------------------------------------------------------------------------------ data size
def classification_set(counts: dict[str, int], **meta) -> list[Conversation]:
    out, i = [], 0
    for label, n in counts.items():
        for _ in range(n):
            out.append(rec(f"Classify the sentiment of this review: {text(i, 10)}", label, **meta))
            i += 1
    return out


def test_data_size_detects_classification_and_warns_far_below_passes_in_range():
    small = run_checks(classification_set({"positive": 10, "negative": 10}))
    c = small["data_size"]
    assert c.status == "warn" and "classification" in c.measured["en"] and "far below 1,000" in c.measured["en"]
    ok = run_checks(classification_set({"positive": 700, "negative": 700}))["data_size"]
    assert ok.status == "ok" and ok.value == 1400


def test_data_size_far_above_warns_with_low_scores_and_not_with_good_ones():
    cfg = practice_config_from({"task": "classification", "rules": {"data_size": {"classification": [10, 20]}}})
    low = run_checks(classification_set({"a": 40, "b": 40}, scores={"quality": 0.2}), cfg)["data_size"]
    assert low.status == "warn" and "mean quality score 0.20" in low.measured["en"]
    good = run_checks(classification_set({"a": 40, "b": 40}, scores={"quality": 0.9}), cfg)["data_size"]
    assert good.status == "info" and "far above 20" in good.measured["en"]


def test_task_detection_copywriting_and_reference_qa():
    copy = [rec(f"写一篇小红书种草文案，产品：{text(i, 4)}", f"{text(i + 50, 30)}") for i in range(40)]
    c = run_checks(copy)["data_size"]
    assert "copywriting" in c.measured["en"] and c.status == "warn"  # 40 is far below 2,000
    ref = [rec(f"根据以下资料回答问题。资料：{text(i, 40)} 问题：{text(i + 9, 3)}？", text(i + 70, 5)) for i in range(40)]
    assert "reference-based QA" in run_checks(ref)["data_size"].measured["en"]
    # the user's task wins over detection
    assert "copywriting" in run_checks(ref, PracticeConfig().with_task("creative"))["data_size"].measured["en"]


# ------------------------------------------------------------------------------------ classification
def test_class_examples_and_imbalance_trip_and_pass():
    cfg = practice_config_from({"task": "classification"})
    bad = run_checks(classification_set({"sports": 200, "politics": 40, "weather": 3}), cfg)
    assert bad["class_examples"].status == "warn" and "weather: 3" in bad["class_examples"].details
    assert bad["class_imbalance"].status == "warn" and bad["class_imbalance"].value == pytest.approx(200 / 3, rel=1e-3)
    good = run_checks(classification_set({"sports": 60, "politics": 40, "weather": 30}), cfg)
    assert good["class_examples"].status == "ok" and good["class_imbalance"].status == "ok"


def test_labels_from_meta_field():
    recs = [rec(f"ticket {text(i)}", f"This ticket is about billing {text(i + 1)}", category="billing" if i % 2 else "tech")
            for i in range(40)]
    cfg = practice_config_from({"task": "classification", "label_field": "category"})
    c = run_checks(recs, cfg)["class_imbalance"]
    assert c.status == "ok" and c.value == 1.0


# ------------------------------------------------------------------------------------ extraction
def extraction_set(n: int, missing_city_every: int = 0) -> list[Conversation]:
    out = []
    for i in range(n):
        obj = {"name": f"name{i}", "city": f"city{i}"}
        if missing_city_every and i % missing_city_every == 0:
            obj.pop("city")
        out.append(rec(f"Extract name and city: {text(i)}", json.dumps(obj)))
    return out


def test_extraction_fields_vs_schema_trip_and_pass():
    cfg = practice_config_from({"schema": ["name", "city"]})
    bad = run_checks(extraction_set(40, missing_city_every=4), cfg)["extraction_fields"]
    assert bad.status == "warn" and bad.value["missing"]["city"] == 10 and "city: missing in 10 of 40" in bad.details
    assert run_checks(extraction_set(40), cfg)["extraction_fields"].status == "ok"
    # no schema given: the fields most answers have stand in for it
    assert run_checks(extraction_set(40, missing_city_every=4))["extraction_fields"].status == "warn"


# ------------------------------------------------------------------------------------ format uniformity
def test_system_prompt_variants():
    many = [rec(f"q {text(i)}", text(i + 300), system=f"You are assistant number {i % 6}.") for i in range(30)]
    c = run_checks(many)["system_prompts"]
    assert c.status == "warn" and c.value == 6
    one = [rec(f"q {text(i)}", text(i + 300), system="You are a helpful assistant.") for i in range(30)]
    assert run_checks(one)["system_prompts"].status == "ok"


def test_reasoning_mix_trips_passes_and_can_be_allowed():
    mixed = [rec(f"q {text(i)}", text(i + 300), reasoning="let me think " + text(i + 900) if i % 2 else None)
             for i in range(20)]
    assert run_checks(mixed)["reasoning_mix"].status == "warn"
    allowed = practice_config_from({"rules": {"reasoning_mix": {"allow_mixed": True}}})
    assert run_checks(mixed, allowed)["reasoning_mix"].status == "info"
    allr = [rec(f"q {text(i)}", text(i + 300), reasoning="thinking " + text(i + 900)) for i in range(20)]
    assert run_checks(allr)["reasoning_mix"].status == "ok"


def test_output_format_json_vs_prose_in_one_task():
    mixed = [rec(f"q {text(i)}", json.dumps({"answer": i}) if i % 3 == 0 else f"The answer is {i}", task="qa")
             for i in range(30)]
    c = run_checks(mixed)["output_format"]
    assert c.status == "warn" and c.details == ["qa: 10 JSON, 20 prose"]
    # different tasks may use different formats
    split = ([rec(f"q {text(i)}", json.dumps({"answer": i}), task="extract") for i in range(15)]
             + [rec(f"q {text(i + 50)}", f"The answer is {i}", task="chat") for i in range(15)])
    assert run_checks(split)["output_format"].status == "ok"


def test_duplicates_and_conflicts_left_in():
    base = plain(30)
    dups = base + [rec(c.messages[0].content, c.messages[1].content) for c in base[:6]]
    c = run_checks(dups)
    assert c["duplicates"].status == "warn" and c["duplicates"].value == pytest.approx(6 / 36, abs=1e-3)
    conflict = base + [rec(base[0].messages[0].content, "a completely different reply " + text(777, 12))]
    c2 = run_checks(conflict)
    assert c2["conflicts"].status == "warn" and c2["conflicts"].value == 1
    assert c2["conflicts"].details == ["conflicting records 1, 31 (n-th valid record in file order)"]
    assert c["duplicates"].details[0] == "duplicate records 1, 31 (n-th valid record in file order)"
    clean = run_checks(base)
    assert clean["duplicates"].status == "ok" and clean["conflicts"].status == "ok"


# ------------------------------------------------------------------------------------ badcases
def test_badcase_coverage_names_the_uncovered_badcases():
    data = plain(50)
    near = rec(data[3].messages[0].content + " please", "bad answer", rid="bad-near")
    far = rec("写一首关于月亮的七言绝句，要押韵", "bad answer", rid="bad-far")
    cfg = PracticeConfig()
    c = badcase_coverage(near_coverage([near, far], iter(data), 0.3), cfg, "b.jsonl")
    assert c.status == "warn" and c.value == 0.5 and c.details == ["no record near badcase bad-far"]
    ok = badcase_coverage(near_coverage([near], iter(data), 0.3), cfg, "b.jsonl")
    assert ok.status == "ok" and ok.value == 1.0


# ------------------------------------------------------------------------------------ config
def test_yaml_overrides_and_errors(tmp_path):
    p = tmp_path / "practice.yaml"
    (tmp_path / "b.jsonl").write_text("", encoding="utf-8")
    p.write_text("task: cls\nrules:\n  general_share: {min: 0.05, max: 0.5}\n  lora_alpha: false\n"
                 "badcases: b.jsonl\n", encoding="utf-8")
    cfg = load_practice_config(p)
    assert cfg.task == "classification" and cfg.t("general_share") == {"min": 0.05, "max": 0.5}
    assert "lora_alpha" in cfg.disabled and cfg.badcases == str(tmp_path / "b.jsonl")
    assert RULES["general_share"].defaults["min"] == 0.15  # the defaults are not changed
    for bad, msg in (("rules: {general_shar: {min: 0.1}}", "did you mean 'general_share'"),
                     ("rules: {general_share: {minimum: 0.1}}", "unknown threshold 'minimum'"),
                     ("rules: {general_share: {min: high}}", "expected a number"),
                     ("rules: {data_size: {classification: [3000, 1000]}}", "must be [low, high]"),
                     ("task: poetry", "unknown task 'poetry'"), ("tsak: cls", "did you mean 'task'"),
                     ("- a\n- b", "must be a mapping"), ("badcases: nowhere.jsonl", "no such file")):
        p.write_text(bad, encoding="utf-8")
        with pytest.raises(UsageError, match=re.escape(msg)):
            load_practice_config(p)


def test_every_rule_has_both_languages_and_docs_quote_the_source_sentences():
    en = (ROOT / "docs" / "practice.md").read_text(encoding="utf-8")
    zh = (ROOT / "docs" / "zh" / "practice.md").read_text(encoding="utf-8")
    for r in RULES.values():
        for part in (r.title, r.rule, r.source, r.advice):
            assert part["en"] and part["zh"]
        assert r.source["en"] in en, r.id
        assert r.source["zh"] in zh, r.id
        assert f"`{r.id}`" in en and f"`{r.id}`" in zh


# ------------------------------------------------------------------------------------ report + run
def write(path: Path, records: list[Conversation]) -> Path:
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.slow
def test_report_has_the_section_at_the_top_in_html_terminal_and_json(tmp_path):
    data = write(tmp_path / "mixed.jsonl", plain(95, source="domain")
                 + [rec(f"chat {text(i + 500)}", text(i + 600), source="general") for i in range(5)])
    bad = write(tmp_path / "bad.jsonl", [rec("写一首关于月亮的七言绝句，要押韵", "x", rid="moon")])
    with bad.open("a", encoding="utf-8") as fh:
        fh.write('{"messages": [{"role": "user", "content": "cut off\n')  # an unreadable badcase row
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    r = run_cli("report", str(data), "-o", str(out), "--json", str(js), "--badcases", str(bad))
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert 'id="practice"' in page and page.index("Practice checks") < page.index("<h2>Overview</h2>")
    assert "General data share" in page and "防止模型遗忘通用能力" in page  # the source sentence in both languages
    report = json.loads(js.read_text(encoding="utf-8"))
    checks = {c["id"]: c for c in report["practice"]["checks"]}
    assert checks["general_share"]["status"] == "warn" and checks["general_share"]["value"] == 0.05
    details = checks["badcase_coverage"]["details"]
    assert details[1:] == ["no record near badcase moon"]
    assert details[0].startswith(f"1 unreadable row(s) in {bad} not compared, e.g. {bad}:2: invalid JSON")
    assert report["practice"]["summary"]["warn"] >= 2
    assert "WARN General data share" in r.stderr and "Badcase coverage" in r.stderr
    r2 = run_cli("report", str(data), "-o", str(out), "--json", str(js), "--no-practice")
    assert r2.returncode == 0 and "practice" not in json.loads(js.read_text(encoding="utf-8"))
    r3 = run_cli("report", str(data), "-o", str(out), "--task", "poetry")
    assert r3.returncode == 2 and "unknown task 'poetry'" in r3.stderr and "Traceback" not in r3.stderr
    # --ui-lang zh: the section and the terminal lines in Chinese; the JSON keeps both languages
    r4 = run_cli("--ui-lang", "zh", "report", str(data), "-o", str(out), "--json", str(js))
    assert r4.returncode == 0, r4.stderr
    page = out.read_text(encoding="utf-8")
    assert "实践检查" in page and "通用数据" in page and "what to do" not in page
    assert "WARN" in r4.stderr and "建议" in r4.stderr
    assert json.loads(js.read_text(encoding="utf-8"))["practice"]["checks"][0]["measured_zh"]


@pytest.mark.slow
def test_curate_run_prints_the_checks_after_the_stage_that_changes_them(tmp_path):
    write(tmp_path / "domain.jsonl", plain(40, source="domain"))
    write(tmp_path / "general.jsonl", [rec(f"chat {text(i + 500)}", text(i + 600)) for i in range(40)])
    (tmp_path / "r.yaml").write_text("name: t\nworkdir: out\nstages:\n  - mix: {sources: ['domain.jsonl:0.5', "
                                     "'general.jsonl:0.5']}\n", encoding="utf-8")
    r = run_cli("run", str(tmp_path / "r.yaml"))
    assert r.returncode == 0, r.stderr
    out = re.sub(r"\s+", " ", r.stderr)
    assert "[01-mix] practice checks: 1 warning(s)" in out and "General data share: general data 50.0%" in out
    (tmp_path / "r.yaml").write_text("name: t\nworkdir: out\npractice: {rules: {general_share: {max: 0.6}}}\n"
                                     "stages:\n  - mix: {sources: ['domain.jsonl:0.5', 'general.jsonl:0.5']}\n",
                                     encoding="utf-8")
    r = run_cli("run", str(tmp_path / "r.yaml"), "--force")
    assert r.returncode == 0 and "[01-mix] practice checks: 0 warning(s)" in re.sub(r"\s+", " ", r.stderr)
    (tmp_path / "r.yaml").write_text("name: t\npractice: {rulez: {}}\nstages:\n  - mix: {}\n", encoding="utf-8")
    r = run_cli("run", "--validate", str(tmp_path / "r.yaml"))
    assert r.returncode == 2 and "unknown key 'rulez'" in r.stderr
