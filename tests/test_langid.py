"""Language ID: script pass for CJK, bundled fastText lite for the rest, code removed, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from curator import langid


def test_short_instructions_en_zh():
    assert langid.detect("Generate 5 multiplication problems")[0] == "en"   # langdetect says Romanian
    assert langid.detect("生成与电动汽车相关的适当关键词。")[0] == "zh"          # fastText lite says Japanese
    assert langid.detect("友谊")[0] == "zh"
    assert langid.detect("用Python写一个快速排序")[0] == "zh"
    assert langid.detect("これは日本語の文章です。")[0] == "ja"
    assert langid.detect("한국어 문장입니다")[0] == "ko"
    assert langid.detect("Le chat dort sur le canapé depuis ce matin.")[0] == "fr"


def test_unknown_and_code_removed():
    assert langid.detect("4") == (langid.UNKNOWN, 0.0)
    assert langid.detect("```python\nprint('hello world')\n```") == (langid.UNKNOWN, 0.0)
    lang, conf = langid.detect("这段代码有什么问题？\n```python\ndef add(a, b):\n    return a - b\n```")
    assert lang == "zh" and 0 < conf <= 1
    assert langid.strip_code("see `x = 1` and https://example.com/a now") == "see and now"


def test_batch_equals_single_and_deterministic():
    texts = ["Hello there, how are you today?", "今天天气很好", "", "12.5", "Bonjour tout le monde, comment ça va ?"]
    assert langid.detect_batch(texts) == [langid.detect(t) for t in texts] == langid.detect_batch(texts)


def test_works_offline_without_fetching_large_model(tmp_path):
    # A fresh process with no network route and a cache dir we can inspect: the bundled lite model
    # must load from the wheel and nothing may be written (no download) to the cache.
    cache = tmp_path / "cache"
    env = dict(os.environ, FTLANG_CACHE=str(cache), HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
               NO_PROXY="")
    code = "from curator import langid; import json; print(json.dumps(langid.detect('The quick brown fox jumps over the lazy dog')))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0] == "en"
    assert not cache.exists() or not any(cache.iterdir())


def test_accuracy_on_real_labelled_set(real):
    en = [r["instruction"] for r in json.loads((real / "alpaca_en_demo.json").read_text("utf-8"))]
    zh = [r["instruction"] for r in json.loads((real / "alpaca_zh_demo.json").read_text("utf-8"))]
    right = sum(langid.detect(t)[0] == "en" for t in en) + sum(langid.detect(t)[0] == "zh" for t in zh)
    assert right / (len(en) + len(zh)) >= 0.99
