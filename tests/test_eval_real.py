"""`curate eval` on real third-party data (../shared/data/real): GSM8K answers scored through
answer_match, and Chinese Alpaca answers scored as generation."""

from __future__ import annotations

import json

import orjson

from curator.answer_match import last_number
from tests.conftest import run_cli


def test_gsm8k_math_and_chinese_generation(real, tmp_path):
    gsm = json.loads((real / "gsm8k_train_alpaca.json").read_text(encoding="utf-8"))[:600]
    rows, right = [], 0
    for i, r in enumerate(gsm):
        n = last_number(r["output"])
        ok = i % 3 != 0
        right += ok
        guess = n if ok else f"{n}1"
        rows.append({"instruction": r["instruction"], "output": r["output"], "prediction": f"So the answer is \\boxed{{{guess}}}."})
    pred = tmp_path / "gsm.jsonl"
    pred.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in rows))
    r = run_cli("eval", str(pred), "-o", str(tmp_path / "gsm.json"), "--task", "math", "--bootstrap", "200")
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "gsm.json").read_text())["tasks"]["math"]["metrics"]["accuracy"]
    assert m["value"] == right / len(rows) and m["ci"][0] < m["value"] < m["ci"][1]

    zh = json.loads((real / "alpaca_zh_demo.json").read_text(encoding="utf-8"))[:300]
    rows = [{"instruction": z["instruction"], "output": z["output"], "prediction": z["output"][: len(z["output"]) // 2]}
            for z in zh if len(z["output"]) > 60]
    pred = tmp_path / "zh.jsonl"
    pred.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in rows))
    r = run_cli("eval", str(pred), "-o", str(tmp_path / "zh.json"), "--html", str(tmp_path / "zh.html"))
    assert r.returncode == 0, r.stderr
    gen = json.loads((tmp_path / "zh.json").read_text())["tasks"]["generation"]
    # half of each answer: recall ~0.5, precision ~1 -> ROUGE-L F ~0.67
    assert gen["n"] == len(rows) and 0.6 < gen["metrics"]["rouge_l"]["value"] < 0.72
    assert 0 < gen["metrics"]["bleu"]["value"] < 100
