"""The manifest: counts, input hashes, and secrets that never reach disk."""

from __future__ import annotations

import json
import sys

import orjson

from curator.manifest import file_hash, read_manifest, scrub, scrub_argv
from curator.runner import CommandRun


def test_scrub_hides_secret_params_and_key_shaped_values():
    params = {"api_key": "sk-abcdefghijklmnop", "api_key_env": "OPENAI_API_KEY", "model": "qwen",
              "headers": {"Authorization": "Bearer abcdefghijklmnop"}, "base_url": "http://127.0.0.1:8000/v1",
              "extra": ["hf_abcdefghijklmnop", "plain"], "token": None}
    s = scrub(params)
    assert s["api_key"] == "***" and s["headers"]["Authorization"] == "***" and s["extra"] == ["***", "plain"]
    assert s["api_key_env"] == "OPENAI_API_KEY" and s["model"] == "qwen" and s["token"] is None
    assert "abcdefghijklmnop" not in orjson.dumps(s).decode()


def test_scrub_argv_masks_flag_values_in_both_spellings():
    argv = ["curate", "distill", "in.jsonl", "--api-key", "sk-live-123456789", "--hf-token=hf_secret12345678",
            "--api-key-env", "MY_KEY", "--model", "m", "sk-stray-value-12345"]
    assert scrub_argv(argv) == ["curate", "distill", "in.jsonl", "--api-key", "***", "--hf-token=***",
                                "--api-key-env", "MY_KEY", "--model", "m", "***"]


def test_command_run_writes_a_scrubbed_balanced_manifest(tmp_path, sample, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["curate", "convert", "--api-key", "sk-test-abcdefghijk"])
    out = tmp_path / "o.jsonl"
    inputs = [sample / "messages.jsonl", sample / "bad" / "bad_rows.jsonl"]
    with CommandRun("convert", out=out, params={"api_key": "sk-test-abcdefghijk", "n": 1}, inputs=inputs,
                    quiet=True) as run:
        for p in inputs:
            for conv in run.read(p):
                run.write(conv)
    text = (tmp_path / "o.manifest.json").read_text()
    assert "sk-test" not in text
    m = read_manifest(tmp_path / "o.manifest.json")
    assert m["argv"] == ["curate", "convert", "--api-key", "***"] and m["params"] == {"api_key": "***", "n": 1}
    assert m["counts"]["in"] == 18 and m["counts"]["out"] == 5 and m["counts"]["rejected"] == 13
    assert m["counts"]["balanced"] is True and m["counts"]["rejected_by_reason"]["turn_order"] == 2
    assert [i["xxh3_128"] for i in m["inputs"]] == [file_hash(p) for p in inputs]
    assert m["formats_detected"] == {str(p): "messages" for p in inputs}
    assert m["outputs"] == {"data": str(out), "rejects": str(tmp_path / "o.rejects.jsonl")}


def test_file_hash_of_folder_depends_on_names_and_contents(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("1")
    h1 = file_hash(tmp_path / "a")
    (tmp_path / "a" / "x").write_text("2")
    assert file_hash(tmp_path / "a") != h1


def test_manifest_params_hold_every_option_the_command_was_called_with(tmp_path, sample):
    """Complete by construction: the params come from what Click bound, not from a hand-made list."""
    import typer

    from curator.cli import app
    from tests.conftest import run_cli

    out = tmp_path / "o.jsonl"
    r = run_cli("convert", str(sample / "alpaca.json"), "-o", str(out), "--encoding", "utf-8", "--think-tags",
                "<t>,</t>", "--map", "instruction=instruction")
    assert r.returncode == 0, r.stderr
    params = json.loads((tmp_path / "o.manifest.json").read_text())["params"]
    declared = {p.name for p in typer.main.get_command(app).commands["convert"].params} - {"ui_lang", "progress"}
    assert declared <= set(params), declared - set(params)
    assert params["think_tags"] == "<t>,</t>" and params["encoding"] == "utf-8"
    assert params["mapping"] == ["instruction=instruction"] and params["inputs"] == [str(sample / "alpaca.json")]


def test_manifest_params_are_complete_for_the_stage_commands(tmp_path, sample):
    """dedup, split, select and score pass no hand-made parameter list: every declared option is
    in the manifest, with the value the command ran with (derived ones such as `against` too)."""
    import typer

    from curator.cli import app
    from tests.conftest import run_cli

    conv = sample / "messages.jsonl"
    runs = {
        "dedup": (["dedup", str(conv), "-o", str(tmp_path / "d.jsonl"), "--keep", "longest"], tmp_path / "d.manifest.json"),
        "split": (["split", str(conv), "-o", str(tmp_path / "s"), "--eval-size", "2"], tmp_path / "s" / "train.manifest.json"),
        "select": (["select", str(conv), "-o", str(tmp_path / "x.jsonl"), "--budget", "2", "--against", f"{conv},{conv}"],
                   tmp_path / "x.manifest.json"),
        "score": (["score", str(conv), "-o", str(tmp_path / "c.jsonl"), "--rubric", "length_band"],
                  tmp_path / "c.manifest.json"),
    }
    commands = typer.main.get_command(app).commands
    for name, (argv, manifest) in runs.items():
        r = run_cli(*argv)
        assert r.returncode == 0, r.stderr
        params = json.loads(manifest.read_text())["params"]
        declared = {p.name for p in commands[name].params} - {"ui_lang", "progress"}
        assert declared <= set(params), (name, declared - set(params))
        assert params["inputs"] == [str(conv)] and params["mapping"] is None
    assert json.loads((tmp_path / "d.manifest.json").read_text())["params"]["keep"] == "longest"
    split = json.loads((tmp_path / "s" / "train.manifest.json").read_text())["params"]
    assert split["out"] == str(tmp_path / "s") and split["eval_size"] == 2.0 and split["eval"] is None
    assert json.loads((tmp_path / "x.manifest.json").read_text())["params"]["against"] == [str(conv), str(conv)]


def test_run_from_python_records_the_config_as_parameters(tmp_path, sample):
    """Outside a CLI call there are no bound options: the validated config's fields are the params."""
    from curator.dedup import DedupConfig

    cfg = DedupConfig(keep="longest", threshold=0.8)
    with CommandRun("dedup", out=tmp_path / "o.jsonl", params={"out": str(tmp_path / "o.jsonl")}, config=cfg,
                    quiet=True) as run:
        for conv in run.read(sample / "messages.jsonl"):
            run.write(conv)
    params = read_manifest(tmp_path / "o.manifest.json")["params"]
    assert params["keep"] == "longest" and params["threshold"] == 0.8 and params["on"] == "conversation"
    assert params["minhash"] == {"num_perm": 64, "ngram": 5, "seed": 1, "ngram_cjk": 2}
    assert params["out"] == str(tmp_path / "o.jsonl")
