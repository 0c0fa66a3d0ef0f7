"""curate mix: exact achieved shares (records and tokens), the repeat cap, temperature,
stratification, determinism and the in/out balance, through the real CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from curator.errors import UsageError
from curator.mix import MixConfig, Source, default_total, largest_remainder, parse_source_arg, requested_shares
from tests.conftest import run_cli


def write_source(path: Path, n: int, prefix: str, *, answer_chars: int = 8, cats: tuple[str, ...] = (),
                 bad: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            meta = {"category": cats[i % len(cats)]} if cats else {}
            # fixed-length texts: the token estimate is the same for every record of a source
            f.write(json.dumps({"messages": [{"role": "user", "content": f"{prefix}{i:06d}"},
                                             {"role": "assistant", "content": "a" * answer_chars}], "meta": meta}) + "\n")
        for _ in range(bad):
            f.write('{"messages": [{"role": "user", "content": "no answer"}]}\n')
    return path


def read_out(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def manifest(out: Path) -> dict:
    return json.loads(out.with_name(out.name.replace(".jsonl", ".manifest.json")).read_text())


def test_records_ratio_exact_and_scarcest_default(tmp_path):
    d = write_source(tmp_path / "domain.jsonl", 100, "d")
    g = write_source(tmp_path / "general.jsonl", 60, "g")
    out = tmp_path / "mixed.jsonl"
    r = run_cli("mix", f"{d}:0.8", f"{g}:0.2", "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = read_out(out)
    src = Counter(x["meta"]["source"] for x in rows)
    # scarcest relative to its ratio is domain (100/0.8 = 125 < 60/0.2): all 100 domain + 25 general
    assert src == {"domain": 100, "general": 25}
    m = manifest(out)
    c = m["counts"]
    assert c["in"] == 160 and c["out"] == 125 and c["excluded_by_reason"] == {"not_sampled:general": 35}
    assert c["in"] == c["out"] + c["rejected"] + c["excluded"] and c["balanced"]
    comp = {s["source"]: s for s in m["mix"]["sources"]}
    assert comp["domain"]["achieved_share"] == 0.8 and comp["general"]["achieved_share"] == 0.2
    assert "requested" in r.stderr and "80.0%" in r.stderr  # the printed table
    assert len({x["id"] for x in rows}) == len(rows)


def test_rejects_counted_and_balance_with_bad_rows(tmp_path):
    d = write_source(tmp_path / "d.jsonl", 40, "d", bad=3)
    g = write_source(tmp_path / "g.jsonl", 40, "g")
    out = tmp_path / "m.jsonl"
    r = run_cli("mix", f"{d}:1", f"{g}:1", "--total", "20", "-o", str(out))
    assert r.returncode == 0, r.stderr
    c = manifest(out)["counts"]
    assert c["in"] == 83 and c["rejected"] == 3 and c["out"] == 20 and c["excluded"] == 60
    assert c["balanced"]
    rej = [json.loads(x) for x in (tmp_path / "m.rejects.jsonl").read_text().splitlines()]
    assert {x["reason"] for x in rej} == {"no_assistant"}  # read errors rejected once, not again in pass 2


def test_tokens_ratio_exact(tmp_path):
    # estimate: "d000001" = 7 chars -> 2 tokens; answer 40 chars -> 10 tokens: 12 tokens per domain record;
    # general: 2 + 2 (8 chars) = 4 tokens per record
    d = write_source(tmp_path / "d.jsonl", 50, "d", answer_chars=40)
    g = write_source(tmp_path / "g.jsonl", 100, "g", answer_chars=8)
    out = tmp_path / "m.jsonl"
    r = run_cli("mix", f"{d}:0.75", f"{g}:0.25", "--by", "tokens", "-o", str(out))
    assert r.returncode == 0, r.stderr
    comp = {s["source"]: s for s in manifest(out)["mix"]["sources"]}
    # domain 600 tokens is the scarce one: 600/0.75 = 800 total, general 200 tokens = 50 records
    assert comp["d"]["out_units"] == 600 and comp["g"]["out_units"] == 200
    assert comp["d"]["achieved_share"] == 0.75 and comp["g"]["out_records"] == 50
    # by records the same ratios would give 50 domain + 16 general (50/0.75 = 66.7 -> 66)
    out2 = tmp_path / "m2.jsonl"
    assert run_cli("mix", f"{d}:0.75", f"{g}:0.25", "-o", str(out2)).returncode == 0
    assert Counter(x["meta"]["source"] for x in read_out(out2)) == {"d": 50, "g": 16}


def test_repeat_cap_and_distinct_ids(tmp_path):
    d = write_source(tmp_path / "d.jsonl", 10, "d")
    g = write_source(tmp_path / "g.jsonl", 100, "g")
    out = tmp_path / "m.jsonl"
    r = run_cli("mix", f"{d}:0.3", f"{g}:0.7", "--total", "100", "--max-repeats", "3", "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = read_out(out)
    d_rows = [x for x in rows if x["meta"]["source"] == "d"]
    assert len(d_rows) == 30  # 3 copies of each of 10
    per_orig = Counter(x["meta"].get("repeat_of", x["id"]) for x in d_rows)
    assert set(per_orig.values()) == {3}
    assert len({x["id"] for x in rows}) == len(rows)  # copies get <id>#k
    assert {x["meta"].get("repeat", 0) for x in d_rows} == {0, 1, 2}
    c = manifest(out)["counts"]
    assert c["copies_added"] == 20 and c["in"] + c["copies_added"] == c["out"] + c["rejected"] + c["excluded"]
    assert c["balanced"]
    # the cap holds: asking for 50% of 100 from a 10-record source is capped at 3 copies, with a warning
    out2 = tmp_path / "m2.jsonl"
    r = run_cli("mix", f"{d}:0.5", f"{g}:0.5", "--total", "100", "--max-repeats", "3", "-o", str(out2))
    assert r.returncode == 0 and "capped" in r.stderr
    comp = {s["source"]: s for s in manifest(out2)["mix"]["sources"]}
    assert comp["d"]["out_records"] == 30 and comp["d"]["max_copies"] == 3 and comp["d"]["capped"]


def test_temperature_flattens(tmp_path):
    a = write_source(tmp_path / "a.jsonl", 900, "a")
    b = write_source(tmp_path / "b.jsonl", 100, "b")
    assert requested_shares([900, 100], [None, None], None) == [0.9, 0.1]
    p2 = requested_shares([900, 100], [None, None], 2.0)
    assert p2[0] == pytest.approx(30 / 40) and p2[1] == pytest.approx(10 / 40)  # sqrt sizes
    big_t = requested_shares([900, 100], [None, None], 1000.0)
    assert abs(big_t[0] - 0.5) < 0.01
    out = tmp_path / "m.jsonl"
    r = run_cli("mix", str(a), str(b), "--temperature", "2", "--total", "200", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert Counter(x["meta"]["source"] for x in read_out(out)) == {"a": 150, "b": 50}


def test_stratify_keeps_category_proportions(tmp_path):
    a = write_source(tmp_path / "a.jsonl", 120, "a", cats=("x", "x", "y"))  # 80 x, 40 y
    b = write_source(tmp_path / "b.jsonl", 30, "b")
    out = tmp_path / "m.jsonl"
    r = run_cli("mix", f"{a}:0.5", f"{b}:0.5", "--stratify", "category", "-o", str(out))
    assert r.returncode == 0, r.stderr
    cats = Counter(x["meta"].get("category") for x in read_out(out) if x["meta"]["source"] == "a")
    assert cats == {"x": 20, "y": 10}


def test_deterministic_and_seed_matters(tmp_path):
    a = write_source(tmp_path / "a.jsonl", 200, "a")
    b = write_source(tmp_path / "b.jsonl", 200, "b")
    outs = []
    for name, seed in (("1", "7"), ("2", "7"), ("3", "8")):
        out = tmp_path / f"m{name}.jsonl"
        assert run_cli("mix", f"{a}:0.3", f"{b}:0.7", "--total", "150", "--seed", seed, "-o", str(out)).returncode == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_yaml_config(tmp_path, sample):
    out = tmp_path / "m.jsonl"
    r = run_cli("mix", "--config", str(sample / "mix.yaml"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = read_out(out)
    assert Counter(x["meta"]["source"] for x in rows) == {"general": 18, "reasoning_ark": 6, "reasoning_r1": 6}
    m = manifest(out)
    assert m["mix"]["reasoning"] == {"with": 12, "without": 18, "share_with": 0.4, "mixed": True}
    assert "mixed reasoning" in r.stderr


def test_usage_errors(tmp_path):
    a = write_source(tmp_path / "a.jsonl", 5, "a")
    out = tmp_path / "m.jsonl"
    r = run_cli("mix", f"{a}:0.5", str(a), "-o", str(out))
    assert r.returncode == 2 and "ratio" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [{path: a.jsonl, weight: 2}]\n")
    r = run_cli("mix", "--config", str(bad), "-o", str(out))
    assert r.returncode == 2 and "unknown keys" in r.stderr
    r = run_cli("mix", f"{tmp_path / 'missing.jsonl'}:1", "-o", str(out))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_helpers():
    assert parse_source_arg("C:/data/x.jsonl:0.2") == Source(Path("C:/data/x.jsonl"), 0.2)
    assert parse_source_arg("x.jsonl").ratio is None
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert default_total([100, 60], [0.8, 0.2], 1) == 125
    with pytest.raises(UsageError):
        MixConfig([Source(Path("a"), 1.0)], temperature=2.0)


def test_table_in_chinese(tmp_path):
    """The composition table an annotator reads is in Chinese with --ui-lang zh; the manifest keys
    stay English (scripts parse them)."""
    d = write_source(tmp_path / "domain.jsonl", 40, "d")
    g = write_source(tmp_path / "general.jsonl", 40, "g")
    out = tmp_path / "mixed.jsonl"
    r = run_cli("mix", f"{d}:0.8", f"{g}:0.2", "-o", str(out), "--ui-lang", "zh")
    assert r.returncode == 0, r.stderr
    assert "按记录数混合" in r.stderr and "要求占比" in r.stderr and "实际占比" in r.stderr and "未选入" in r.stderr
    assert "requested" not in r.stderr
    assert manifest(out)["mix"]["sources"][0]["requested_share"] == 0.8
