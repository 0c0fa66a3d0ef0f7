"""`curate eval` end to end: every task in one file, rejects, badcases that `curate review`
opens with the answer beside the reference, the HTML page, and --compare."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson

from tests.conftest import run_cli
from tests.test_review_app import screen_text


def _rows() -> list[dict]:
    rows = []
    for i in range(6):  # classification: 6 rows, 2 labels, the last two wrong (one via a synonym: right)
        ref = "正面" if i % 2 else "负面"
        pred = ref if i < 4 else ("positive" if ref == "正面" else "正面")
        rows.append({"prompt": f"评论 {i}", "predict": pred, "label": ref, "meta": {"source": "a" if i < 3 else "b"}})
    rows.append({"prompt": "提取", "predict": '```json\n{"name": "张三", "age": 30}\n```', "label": '{"name": "张三", "age": 31}'})
    rows.append({"prompt": "2+2", "predict": "\\boxed{4}", "label": "#### 4"})
    rows.append({"id": "gen-1", "messages": [{"role": "user", "content": "写一句诗"},
                                             {"role": "assistant", "content": "今天天气很好。"}],
                 "meta": {"reference": {"role": "assistant", "content": "床前明月光，疑是地上霜，举头望明月。"}}})
    return rows


def _write(path: Path, rows: list, extra_lines: list[str] = ()) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows) + "".join(x + "\n" for x in extra_lines).encode())
    return path


def test_eval_all_tasks_rejects_badcases_html(tmp_path):
    pred = _write(tmp_path / "pred.jsonl", _rows(), ['{"predict": "x"}', "{broken"])
    syn = tmp_path / "syn.yaml"
    syn.write_text("正面: [positive]\n", encoding="utf-8")
    out, html, bad = tmp_path / "eval.json", tmp_path / "eval.html", tmp_path / "bad.jsonl"
    r = run_cli("eval", str(pred), "-o", str(out), "--html", str(html), "--badcases", str(bad), "--synonyms", str(syn),
                "--bootstrap", "200")
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert set(d["tasks"]) == {"classification", "extraction", "math", "generation"}
    cls = d["tasks"]["classification"]
    assert cls["n"] == 6 and cls["metrics"]["accuracy"]["value"] == 5 / 6  # "positive" = 正面 by synonym
    assert cls["confusion"] == [[3, 0], [1, 2]] and cls["labels"] == ["正面", "负面"]
    lo, hi = cls["metrics"]["accuracy"]["ci"]
    assert lo <= 5 / 6 <= hi
    assert d["tasks"]["extraction"]["metrics"]["field_f1"]["value"] == 0.5
    assert d["tasks"]["math"]["metrics"]["accuracy"]["value"] == 1.0
    assert set(d["by_source"]["classification"]) == {"a", "b"}
    # in = evaluated + rejected, and the two bad rows are in the rejects with file:line
    assert d["records"] == 9 and d["rejected_by_reason"] == {"no_reference": 1, "invalid_json": 1}
    rej = [json.loads(x) for x in (tmp_path / "eval.rejects.jsonl").read_text().splitlines()]
    assert [x["line"] for x in rej] == [10, 11] and "pred.jsonl:10" in rej[0]["message"]
    man = json.loads((tmp_path / "eval.manifest.json").read_text())
    assert man["counts"]["in"] == 11 and man["counts"]["balanced"]
    # badcases: classification row 5, extraction, generation — each with the reference and why
    bads = [json.loads(x) for x in bad.read_text().splitlines()]
    assert sorted(b["meta"]["eval"]["task"] for b in bads) == ["classification", "extraction", "generation"]
    gen = next(b for b in bads if b["meta"]["eval"]["task"] == "generation")
    assert gen["id"] == "gen-1" and gen["meta"]["reference"]["content"].startswith("床前")
    page = html.read_text()
    assert "confusion matrix" in page and "<script" not in page and "负面" in page
    assert "3 badcases" in r.stderr or "badcases to" in r.stderr


def test_badcases_open_in_review_with_reference_beside_answer(tmp_path):
    from curator.review.app import ReviewApp
    from curator.review.session import ReviewSession

    pred = _write(tmp_path / "pred.jsonl", _rows())
    bad = tmp_path / "bad.jsonl"
    assert run_cli("eval", str(pred), "-o", str(tmp_path / "e.json"), "--badcases", str(bad), "--bootstrap", "0").returncode == 0
    session = ReviewSession(bad)
    item = session.item(0)
    assert [m.label for m in item.members] == ["record", "reference"]

    async def main():
        app = ReviewApp(session, None)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            shown = screen_text(app)
            await pilot.press("a")  # confirm the first badcase: saved at once
            await pilot.pause()
        return shown
    shown = asyncio.run(main())
    assert "reference" in shown and "负面" in shown and "正面" in shown  # the answer and the reference, side by side
    assert session.state(0).status == "accepted"
    session.close()


def test_compare_deltas_with_intervals(tmp_path):
    rows = _rows()
    before = _write(tmp_path / "before.jsonl", rows)
    better = [dict(r) for r in rows]
    for r in better[:6]:
        r["predict"] = r["label"]
    after = _write(tmp_path / "after.jsonl", better)
    assert run_cli("eval", str(before), "-o", str(tmp_path / "b.json"), "--bootstrap", "300").returncode == 0
    r = run_cli("eval", str(after), "-o", str(tmp_path / "a.json"), "--compare", str(tmp_path / "b.json"),
                "--html", str(tmp_path / "a.html"), "--bootstrap", "300")
    assert r.returncode == 0, r.stderr
    cmp = json.loads((tmp_path / "a.json").read_text())["compare"]["tasks"]["classification"]["accuracy"]
    assert cmp["delta"] == 1 - 4 / 6 and cmp["ci"][0] < cmp["delta"] < cmp["ci"][1]
    assert cmp["verdict"] in ("better", "no clear change")
    assert "compared with" in r.stderr and "Compared with" in (tmp_path / "a.html").read_text()


def test_usage_errors_are_one_line(tmp_path):
    pred = _write(tmp_path / "pred.jsonl", _rows())
    r = run_cli("eval", str(pred), "-o", str(pred))
    assert r.returncode == 2 and "would overwrite" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("eval", str(pred), "-o", str(tmp_path / "e.json"), "--task", "nope")
    assert r.returncode == 2 and "--task" in r.stderr
    r = run_cli("eval", str(pred), "-o", str(tmp_path / "e.json"), "--compare", str(pred))
    assert r.returncode == 2 and "not an eval.json" in r.stderr or "not JSON" in r.stderr
    r = run_cli("eval", str(pred), "-o", str(tmp_path / "e.json"), "--task", "extraction", "--bootstrap", "0")
    d = json.loads((tmp_path / "e.json").read_text())  # references that are not JSON are rejected, not crashed on
    assert r.returncode == 0 and d["rejected_by_reason"]["bad_reference"] == 8
