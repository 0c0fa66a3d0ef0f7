"""The report's semantic diversity section: Vendi score, clusters, map; selected vs left out after select."""

from __future__ import annotations

import pytest

import json

import numpy as np

from curator.report.diversity import render, vendi_score
from tests.conftest import run_cli


def test_vendi_score_counts_effective_distinct_records():
    eye = np.eye(8, dtype=np.float32)
    assert abs(vendi_score(eye) - 8) < 1e-6  # 8 orthogonal records
    assert abs(vendi_score(np.tile(eye[:1], (8, 1))) - 1) < 1e-6  # 8 copies of one
    assert 1 < vendi_score(np.concatenate([eye[:2]] * 3 + [eye[2:3]])) < 3


@pytest.mark.slow
def test_report_after_select_shows_the_selection_against_the_pool(tmp_path, sample):
    sel = tmp_path / "sel.jsonl"
    srcs = [str(sample / f) for f in ("general.jsonl", "messages.jsonl", "alpaca.json", "sharegpt.json")]
    r = run_cli("select", *srcs, "-o", str(sel), "--fraction", "0.5")
    assert r.returncode == 0, r.stderr
    r = run_cli("report", str(sel), "-o", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json"))
    assert r.returncode == 0, r.stderr
    d = json.loads((tmp_path / "r.json").read_text())["semantic"]
    m = json.loads((tmp_path / "sel.manifest.json").read_text())
    assert d["mode"] == "selection" and d["records"] == m["counts"]["in"] - m["counts"]["rejected"]
    assert d["chosen"] == m["counts"]["out"]
    assert 0 < d["clusters"]["coverage"] <= 1 and d["vendi"]["chosen"] <= d["vendi"]["pool"] + 1e-6
    assert sum(d["map"]["chosen"]) == min(d["chosen"], len(d["map"]["x"]))
    html = (tmp_path / "r.html").read_text()
    assert "Semantic diversity" in html and "selected" in html and "<script" not in html and "http" not in \
        html.split("<svg")[0].split("<style>")[1]


@pytest.mark.slow
def test_report_of_a_plain_file_embeds_it_and_escapes_examples(tmp_path):
    src = tmp_path / "x.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"</svg><script>alert({i})</script> topic {i % 3}"},
                          {"role": "assistant", "content": "ok"}]} for i in range(12)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = run_cli("report", str(src), "-o", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json"))
    assert r.returncode == 0, r.stderr
    d = json.loads((tmp_path / "r.json").read_text())["semantic"]
    assert d["mode"] == "file" and d["records"] == 12 and d["chosen"] == 12
    page = render(d)
    assert "<script>" not in page and "&lt;script&gt;" in page
    r = run_cli("report", str(src), "-o", str(tmp_path / "n.html"), "--no-semantic")
    assert r.returncode == 0 and "Semantic diversity" not in (tmp_path / "n.html").read_text()


def test_a_large_file_is_measured_on_a_seeded_sample(tmp_path, monkeypatch):
    """Beyond SAMPLE prompts the section embeds a reservoir sample (bounded time and memory),
    the same one on every run, and says so."""
    import curator.report.diversity as div

    monkeypatch.setattr(div, "SAMPLE", 40)
    src = tmp_path / "big.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(300):
            fh.write(json.dumps({"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i} on topic {i % 7}"},
                                                             {"role": "assistant", "content": f"answer {i}"}]}) + "\n")
    a, b = div.semantic_diversity(src), div.semantic_diversity(src)
    assert a["records"] == 40 and a["sampled_from"] == 300 and a == b
    assert "estimated from 40 of 300 records" in div.render(a)
    monkeypatch.setattr(div, "SAMPLE", 1000)
    whole = div.semantic_diversity(src)
    assert whole["records"] == 300 and "sampled_from" not in whole
