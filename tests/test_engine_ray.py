"""`--engine ray` gives the same records, rejects and counts as `--engine local`:
convert, validate, score, filter, dedup and mix.

One local Ray instance (2 CPUs) is started for the module; each CLI run joins it with
`--ray-address`, so the real entry point, the real Ray Data executor and real worker processes
are exercised. Compared: the output record set, the rejects (reason, message, source, line, id,
record) and the manifest counts; for convert/validate/score also the bytes (the engine keeps
input order).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.rejects import manifest_path, read_rejects, rejects_path
from tests.big_data import make_big
from tests.conftest import run_cli

ray = pytest.importorskip("ray")


def _lines(path: Path) -> list[str]:
    return sorted(x for x in path.read_text(encoding="utf-8").splitlines() if x.strip())


def _rejects(out: Path) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in read_rejects(rejects_path(out)))


def both(tmp_path: Path, address: str, *args: str, out_name: str = "out.jsonl", code: int = 0,
         side: tuple[str, ...] = (), cwd: Path | None = None) -> tuple[Path, Path]:
    """Run one command with each engine; assert same exit code, records, rejects and counts.
    `side`: options naming side outputs (--report), written next to each engine's output."""
    outs = []
    for engine in ("local", "ray"):
        out = tmp_path / engine / out_name
        out.parent.mkdir(exist_ok=True)
        extra = ["--engine", engine] + (["--ray-address", address] if engine == "ray" else [])
        for opt in side:
            extra += [opt, str(out.parent / f"side{opt}.jsonl")]
        r = run_cli(*args, "-o", str(out), *extra, cwd=cwd)
        assert r.returncode == code, r.stderr
        outs.append(out)
    local, remote = outs
    assert _lines(local) == _lines(remote)
    assert _rejects(local) == _rejects(remote)
    ml, mr = (json.loads(manifest_path(o).read_text()) for o in outs)
    assert ml["counts"] == mr["counts"] and mr["counts"]["balanced"]
    assert mr["params"]["engine"] == "ray"
    return local, remote


@pytest.mark.slow
def test_convert_sample_and_bad_rows(tmp_path, sample, ray_address):
    inputs = [str(p) for p in sorted((sample / "bad").glob("*.jsonl"))] + [
        str(sample / "alpaca.json"), str(sample / "sharegpt.json"), str(sample / "messages.jsonl"),
        str(sample / "reasoning_r1.jsonl")]
    local, remote = both(tmp_path, ray_address, "convert", *inputs, code=0)
    # input order is kept, so the files are byte-identical, not only the same sets
    assert local.read_bytes() == remote.read_bytes()
    assert rejects_path(local).read_bytes() == rejects_path(remote).read_bytes()
    lines = {(r["source"], r["line"]) for r in read_rejects(rejects_path(remote))}
    assert any(src.endswith("bad_rows.jsonl") and line == 11 for src, line in lines)


@pytest.mark.slow
def test_convert_to_sharegpt_parquet_input(tmp_path, sample, ray_address):
    src = tmp_path / "in.parquet"
    r = run_cli("convert", str(sample / "messages.jsonl"), "-o", str(src))
    assert r.returncode == 0, r.stderr
    both(tmp_path, ray_address, "convert", str(src), "--to", "sharegpt")


@pytest.mark.slow
def test_validate_counts_and_report(tmp_path, sample, ray_address):
    local, remote = both(tmp_path, ray_address, "validate", str(sample / "bad" / "bad_rows.jsonl"),
                         str(sample / "messages.jsonl"), code=1)
    assert json.loads(manifest_path(remote).read_text())["counts"]["rejected"] > 0


@pytest.mark.slow
def test_score_rule_rubrics(tmp_path, sample, ray_address):
    both(tmp_path, ray_address, "score", str(sample / "messages.jsonl"), str(sample / "reasoning_r1.jsonl"),
         str(sample / "prompts.jsonl"), "--rubric", "no_refusal", "--rubric", str(sample / "rubric_recipe.yaml"))


@pytest.mark.slow
def test_score_refuses_a_judge_on_ray(tmp_path, sample, ray_address):
    r = run_cli("score", str(sample / "messages.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--rubric", "helpfulness",
                "--judge-model", "m", "--judge-base-url", "http://127.0.0.1:9/v1", "--engine", "ray",
                "--ray-address", ray_address)
    assert r.returncode == 2 and "rule rubrics only" in r.stderr and "Traceback" not in r.stderr


def test_unknown_engine_is_a_usage_error(tmp_path, sample):
    r = run_cli("convert", str(sample / "messages.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--engine", "spark")
    assert r.returncode == 2 and "choose local or ray" in r.stderr


# --------------------------------------------------------------------------- 200,000 records
@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("big") / "big.jsonl"
    make_big(p)
    return p


@pytest.mark.slow
def test_big_convert(tmp_path, big, ray_address):
    local, remote = both(tmp_path, ray_address, "convert", str(big), "--to", "sharegpt")
    m = json.loads(manifest_path(remote).read_text())["counts"]
    assert m["in"] == 200_000 and m["rejected"] > 300 and m["out"] + m["rejected"] == 200_000
    assert local.read_bytes() == remote.read_bytes()


@pytest.mark.slow
def test_big_score(tmp_path, big, ray_address):
    both(tmp_path, ray_address, "score", str(big), "--rubric", "no_refusal")


def _manifest(out: Path) -> dict:
    return json.loads(manifest_path(out).read_text())


# --------------------------------------------------------------------------- filter
FILTER_CASES = [
    ("What is 2+2?", "4. Mail me at alice@example.com or call 13812345678 for more."),  # masked by pii
    ("Tell me a joke.", "I'm not able to help with that."),  # refusal (recipe's extra phrase)
    ("Say hi", "hi hi hi hi hi hi hi hi hi hi\nhi hi hi hi hi hi hi hi hi hi\nhi hi hi hi hi hi hi hi hi hi"),
    ("Quelle heure est-il ?", "Il est trois heures de l'après-midi, et il fait beau dehors aujourd'hui."),
    ("写一首诗", "床前明月光，疑是地上霜。举头望明月，低头思故乡。"),
    ("Fill the form", "Dear {{name}}, thanks for your order."),  # placeholder
    ("Explain tides", "Tides are caused mainly by the Moon's gravity pulling on the oceans of the Earth."),
]


@pytest.mark.slow
def test_filter_recipe_pii_and_user_function(tmp_path, sample, ray_address):
    """The sample recipe (PII masking, refusal, repetition, language...) plus a user `module:function`
    filter imported on the workers from the working directory."""
    cases = tmp_path / "cases.jsonl"
    with open(cases, "w", encoding="utf-8") as fh:
        for n, (q, a) in enumerate(FILTER_CASES * 3):
            fh.write(json.dumps({"id": f"c{n}", "messages": [{"role": "user", "content": q},
                                                             {"role": "assistant", "content": a}]},
                                ensure_ascii=False) + "\n")
    (tmp_path / "my_rules.py").write_text(
        "def no_tides(conv, **kw):\n"
        "    return (False, 'mentions tides') if 'Tides' in conv.messages[-1].content else True\n", "utf-8")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text((sample / "filters.yaml").read_text("utf-8") + "- user: {function: 'my_rules:no_tides'}\n",
                      "utf-8")
    local, remote = both(tmp_path, ray_address, "filter", str(cases), str(sample / "messages.jsonl"),
                         str(sample / "reasoning_r1.jsonl"), str(sample / "alpaca.json"),
                         str(sample / "bad" / "bad_rows.jsonl"), "--recipe", str(recipe), cwd=tmp_path)
    assert local.read_bytes() == remote.read_bytes()  # records and PII edits, in input order
    ml, mr = _manifest(local), _manifest(remote)
    assert ml["filters"] == mr["filters"] and mr["pii_masked_records"] == ml["pii_masked_records"] == 3
    dropped = {f["filter"]: f["dropped"] for f in mr["filters"]}
    assert dropped["refusal"] == 3 and dropped["user"] == 3 and dropped["language"] >= 3
    assert "alice@example.com" not in remote.read_text("utf-8")


@pytest.mark.slow
def test_filter_big(tmp_path, big, ray_address):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("- turns\n- length: {max_chars: 8000}\n- refusal: {action: drop, extra_phrases: [\"I'm sorry, I can't help\"]}\n- repetition\n"
                      "- pii: {action: mask}\n", "utf-8")
    local, remote = both(tmp_path, ray_address, "filter", str(big), "--recipe", str(recipe))
    assert local.read_bytes() == remote.read_bytes()
    ml, mr = _manifest(local), _manifest(remote)
    assert ml["filters"] == mr["filters"] and ml["pii_masked_records"] == mr["pii_masked_records"] > 0
    assert {f["filter"]: f["dropped"] for f in mr["filters"]}["refusal"] > 0


# --------------------------------------------------------------------------- dedup
@pytest.mark.slow
def test_dedup_sample_and_bad_rows(tmp_path, sample, ray_address):
    local, remote = both(tmp_path, ray_address, "dedup", str(sample / "messages.jsonl"),
                         str(sample / "messages.jsonl"), str(sample / "reasoning_r1.jsonl"),
                         str(sample / "bad" / "bad_rows.jsonl"), side=("--report", "--conflicts"))
    for name in (local.name, rejects_path(local).name, "side--report.jsonl", "side--conflicts.jsonl"):
        assert (local.parent / name).read_bytes() == (remote.parent / name).read_bytes(), name
    assert _manifest(remote)["dedup"]["dropped"]["duplicate"] > 0


@pytest.mark.slow
def test_dedup_big_across_ranges(tmp_path, big, ray_address):
    """Duplicates whose copies sit in different workers' ranges are found: same drops, same
    `duplicate_of`, same clusters and conflict groups as the single-process engine."""
    from curator.engine.ranges import plan_ranges, range_bytes_for

    local, remote = both(tmp_path, ray_address, "dedup", str(big), side=("--report", "--conflicts"))
    for name in (local.name, rejects_path(local).name, "side--report.jsonl", "side--conflicts.jsonl"):
        assert (local.parent / name).read_bytes() == (remote.parent / name).read_bytes(), name
    d = _manifest(remote)["dedup"]
    assert d["dropped"]["duplicate"] > 100 and d["dropped"]["near_duplicate"] > 1000 and d["conflict_groups"] > 0
    # the ranges the Ray run used (2 CPUs): count clusters that span two of them
    starts = [r.first for r in plan_ranges(big, range_bytes_for([big], 2))]
    assert len(starts) > 2

    def range_of(line: int) -> int:
        return sum(1 for s in starts if s <= line)

    clusters = [json.loads(x) for x in (remote.parent / "side--report.jsonl").read_text().splitlines()]
    crossing = sum(1 for c in clusters for m in c["dropped"] if range_of(m["line"]) != range_of(c["kept"]["line"]))
    assert crossing > 1000


# --------------------------------------------------------------------------- mix
@pytest.mark.slow
def test_mix_sample_config(tmp_path, sample, ray_address):
    local, remote = both(tmp_path, ray_address, "mix", "--config", str(sample / "mix.yaml"))
    assert local.read_bytes() == remote.read_bytes()
    assert _manifest(local)["mix"] == _manifest(remote)["mix"]


@pytest.mark.slow
def test_mix_big_tokens_with_repeats(tmp_path, big, ray_address):
    small = tmp_path / "small.jsonl"
    with open(big, encoding="utf-8") as src, open(small, "w", encoding="utf-8") as dst:
        for _, line in zip(range(20_000), src):
            dst.write(line)
    local, remote = both(tmp_path, ray_address, "mix", f"{big}:0.6", f"{small}:0.4", "--by", "tokens",
                         "--max-repeats", "3", "--seed", "5")
    assert local.read_bytes() == remote.read_bytes()
    m = _manifest(remote)
    assert m["mix"] == _manifest(local)["mix"] and m["counts"]["copies_added"] > 0 and m["counts"]["excluded"] > 0


@pytest.mark.slow
def test_filter_user_function_error_exits_2_on_ray(tmp_path, sample, ray_address):
    """A user filter that raises on a worker stops the run with its message and exit 2, no traceback."""
    (tmp_path / "buggy_rules.py").write_text("def f(conv, **kw):\n    raise ValueError('boom')\n", "utf-8")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("- user: {function: 'buggy_rules:f'}\n", "utf-8")
    r = run_cli("filter", str(sample / "messages.jsonl"), "--recipe", str(recipe), "-o", str(tmp_path / "o.jsonl"),
                "--engine", "ray", "--ray-address", ray_address, cwd=tmp_path)
    assert r.returncode == 2 and "raised ValueError: boom" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o.jsonl").exists()
