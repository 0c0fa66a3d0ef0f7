"""`--ui-lang` / locale: Chinese summaries, reject sentences and report; codes, files and lines
unchanged; English by default."""

from __future__ import annotations

import re

import pytest

from curator import i18n
from tests.conftest import SAMPLE, run_cli

EN = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "CURATE_UI_LANG": ""}


def _loc_codes(text: str) -> list[tuple[str, str]]:
    """(reason code, file:line) pairs of a summary's reject lines."""
    return re.findall(r"^\s+(\w+): \d+.*?([\w/.-]+\.jsonl:\d+): ", text, re.M)


def test_reject_sentences_in_chinese_keep_codes_files_and_lines(tmp_path):
    bad = str(SAMPLE / "bad" / "bad_rows.jsonl")
    en = run_cli("convert", bad, "-o", str(tmp_path / "en.jsonl"), env=EN)
    zh = run_cli("convert", bad, "-o", str(tmp_path / "zh.jsonl"), "--ui-lang", "zh", env=EN)
    assert en.returncode == zh.returncode
    assert "rejected" in en.stderr and "未知的角色名" not in en.stderr
    assert "拒收" in zh.stderr and "未知的角色名" in zh.stderr
    assert "did you mean 'assistant'?" in zh.stderr  # the exact English detail is kept in brackets
    assert _loc_codes(en.stderr) == _loc_codes(zh.stderr) and len(_loc_codes(en.stderr)) >= 10
    # What scripts read never changes: the rejects files are identical.
    assert (tmp_path / "en.rejects.jsonl").read_bytes() == (tmp_path / "zh.rejects.jsonl").read_bytes()


def test_locale_selects_chinese_and_flag_overrides_it(tmp_path):
    bad = str(SAMPLE / "bad" / "bad_rows.jsonl")
    by_locale = run_cli("validate", bad, env={**EN, "LANG": "zh_CN.UTF-8"})
    assert "共 13 行" in by_locale.stdout and by_locale.returncode == 1
    forced_en = run_cli("validate", bad, "--ui-lang", "en", env={**EN, "LANG": "zh_CN.UTF-8"})
    assert "13 rows" in forced_en.stdout


def test_usage_errors_stay_one_line_in_both_languages(tmp_path):
    for lang, lead in (("en", "error:"), ("zh", "错误：")):
        r = run_cli("convert", str(tmp_path / "missing.json"), "-o", str(tmp_path / "o.jsonl"), "--ui-lang", lang,
                    env=EN)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert r.stderr.strip().startswith(lead) and "missing.json" in r.stderr
    bad = run_cli("convert", str(SAMPLE / "alpaca.json"), "-o", str(tmp_path / "o.jsonl"), "--ui-lang", "fr", env=EN)
    assert bad.returncode == 2 and "choose en or zh" in bad.stderr


@pytest.mark.slow
def test_report_html_in_chinese(tmp_path):
    zh = run_cli("report", str(SAMPLE / "alpaca.json"), "-o", str(tmp_path / "zh.html"), "--ui-lang", "zh", env=EN)
    en = run_cli("report", str(SAMPLE / "alpaca.json"), "-o", str(tmp_path / "en.html"), env=EN)
    assert zh.returncode == en.returncode == 0
    page = (tmp_path / "zh.html").read_text(encoding="utf-8")
    assert 'lang="zh-CN"' in page and "<h2>概览</h2>" in page and "各角色长度" in page and "每条记录的消息数" in page
    assert "记录数" in zh.stderr
    eng = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert "<h2>Overview</h2>" in eng and "概览" not in eng


def test_every_validation_code_has_a_chinese_sentence():
    from curator.i18n_zh import REASONS
    from curator.validate import CODES

    assert not [c for c in CODES if c not in REASONS]


@pytest.mark.parametrize("value,expected", [("zh", "zh"), ("zh_CN.UTF-8", "zh"), ("cn", "zh"), ("en_US", "en"),
                                            ("C", "en")])
def test_normalize(value, expected):
    assert i18n.normalize(value) == expected
