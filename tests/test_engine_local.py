"""The local engine's process pool (`--workers N`) writes what one process writes: the same bytes
of output and rejects, the same counts, for convert, validate and filter — with bad rows, PII
masking and a user's filter function (which is never pickled: the workers are forked)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curator.engine.local import AUTO_MIN_BYTES, parse_workers, resolve_workers
from curator.errors import UsageError
from curator.rejects import manifest_path, rejects_path
from tests.big_data import make_big
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("local") / "data.jsonl"
    make_big(p, n=40_000)  # ~4 MB: several 1 MB ranges per worker
    return p


def one_and_two(tmp_path: Path, *args: str, code: int = 0) -> tuple[Path, Path]:
    outs = []
    for n in ("1", "2"):
        out = tmp_path / f"w{n}" / "out.jsonl"
        out.parent.mkdir()
        r = run_cli(*args, "-o", str(out), "--workers", n)
        assert r.returncode == code, r.stderr
        outs.append(out)
    one, two = outs
    assert one.read_bytes() == two.read_bytes()
    assert rejects_path(one).read_bytes() == rejects_path(two).read_bytes()
    m1, m2 = (json.loads(manifest_path(o).read_text()) for o in outs)
    assert m1["counts"] == m2["counts"] and m2["counts"]["balanced"]
    assert (m1["workers"], m2["workers"]) == (1, 2)
    return one, two


def test_convert_two_workers_same_bytes(tmp_path, data, sample):
    one, _ = one_and_two(tmp_path, "convert", str(data), str(sample / "alpaca.json"), str(sample / "bad" / "bad_rows.jsonl"),
                         "--to", "sharegpt")
    m = json.loads(manifest_path(one).read_text())["counts"]
    assert m["in"] == 40_000 + 10 + 13 and m["rejected"] > 40


def test_validate_two_workers_same_counts(tmp_path, data):
    one_and_two(tmp_path, "validate", str(data), code=1)


@pytest.mark.slow
def test_filter_two_workers_pii_and_user_function(tmp_path, data):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("- turns\n- refusal: {action: drop, extra_phrases: [\"I'm sorry, I can't help\"]}\n"
                      "- repetition\n- pii: {action: mask}\n- user: {function: 'tests.filter_funcs:no_tides'}\n",
                      "utf-8")
    one, two = one_and_two(tmp_path, "filter", str(data), "--recipe", str(recipe))
    m = json.loads(manifest_path(two).read_text())
    dropped = {f["filter"]: f["dropped"] for f in m["filters"]}
    assert dropped["user"] > 1000 and dropped["refusal"] > 10 and m["pii_masked_records"] > 10
    assert "@example.com" not in two.read_text("utf-8")


def test_worker_usage_error_is_exit_2(tmp_path, data):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("- user: {function: 'tests.filter_funcs:does_not_exist'}\n", "utf-8")
    r = run_cli("filter", str(data), "-o", str(tmp_path / "o.jsonl"), "--recipe", str(recipe), "--workers", "2")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_workers_option_and_auto(tmp_path, data):
    assert parse_workers("auto") is None and parse_workers("3") == 3
    for bad in ("0", "two"):
        with pytest.raises(UsageError):
            parse_workers(bad)
    assert resolve_workers(None, [data]) == 1  # small input: not worth a pool
    assert resolve_workers(2, [data]) == 2
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert resolve_workers(2, [data, fifo]) == 1  # a FIFO is read once, in this process
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as fh:
        fh.truncate(AUTO_MIN_BYTES)
    assert resolve_workers(None, [big]) >= 1
    r = run_cli("convert", str(data), "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert r.returncode == 2 and "--workers" in r.stderr


@pytest.mark.slow
def test_output_through_shared_slots_and_through_the_pipe(tmp_path):
    """Long rows come back through the shared-memory slots, short rows (whose canonical form is
    several times larger than the input, more than a slot holds) through the pipe: both give the
    bytes one process writes."""
    words = ("alpha beta gamma delta epsilon 中文 文本 " * 40).strip()
    long_rows = tmp_path / "long.jsonl"
    long_rows.write_text("".join(json.dumps({"instruction": f"q{i} {words[:200]}", "output": f"{words} {i}"},
                                            ensure_ascii=False) + "\n" for i in range(3000)), "utf-8")
    short_rows = tmp_path / "short.jsonl"
    short_rows.write_text("".join(json.dumps({"instruction": f"q{i}", "output": f"a{i}"}) + "\n"
                                  for i in range(60_000)), "utf-8")
    for src in (long_rows, short_rows):
        assert src.stat().st_size > 2 << 20  # several ranges
        d = tmp_path / src.stem
        d.mkdir()
        one, _ = one_and_two(d, "convert", str(src))
        assert json.loads(manifest_path(one).read_text())["counts"]["out"] in (3000, 60_000)
