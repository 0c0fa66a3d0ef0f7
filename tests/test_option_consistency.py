"""Options spelled the same everywhere: -o/--out, --no-cache on generating commands, --ui-lang and
--progress on every command; `stats --tokenizer`; `filter --list` shows list values; `train
generate`/`merge` take -o/--out and still accept --output."""

from __future__ import annotations

import json

import pytest
import typer

from curator.cli import app
from tests.conftest import SAMPLE, run_cli


def _commands():
    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    return {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}


def test_every_output_option_is_dash_o_and_out():
    for name, cmd in _commands().items():
        for p in cmd.params:
            if getattr(p, "opts", None) and any(o in ("-o", "--out", "--output") for o in p.opts):
                assert {"-o", "--out"} <= set(p.opts), (name, p.opts)


def test_generating_commands_take_no_cache_and_all_take_ui_lang_and_progress():
    cmds = _commands()
    for name in ("distill", "bestofk", "score"):
        assert any("--no-cache" in getattr(p, "opts", ()) for p in cmds[name].params), name
    for name, cmd in cmds.items():
        opts = {o for p in cmd.params for o in getattr(p, "opts", ())}
        assert "--ui-lang" in opts and "--progress" in opts, name


def test_bestofk_no_cache_writes_no_cache_file(tmp_path):
    pytest.importorskip("curator.generation")
    from tests.scripted_server import ScriptedServer

    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"messages": [{"role": "user", "content": "Name a prime. CANDS: Nine. Q=1 | "
                                                 "Seven. Q=8"}]}) + "\n", encoding="utf-8")
    with ScriptedServer() as srv:
        r = run_cli("bestofk", str(prompts), "-o", str(tmp_path / "b.jsonl"), "--model", "m", "--base-url", srv.url,
                    "--k", "2", "--rubric", "tests.rubric_funcs:quality_tag", "--no-cache",
                    env={"OPENAI_API_KEY": "sk-test"})
    assert r.returncode in (0, 1), r.stderr
    assert not list(tmp_path.glob("*.sqlite")), list(tmp_path.iterdir())


@pytest.mark.slow
def test_stats_counts_tokens_with_a_tokenizer(tmp_path):
    pytest.importorskip("transformers")
    from trainer.tiny import build_tiny_model

    tok = build_tiny_model(tmp_path / "tiny")
    r = run_cli("stats", str(SAMPLE / "alpaca.json"), "--tokenizer", str(tok), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["tokens_per_role"]["user"]["total"] > 0 and d["tokens_per_role"]["assistant"]["max"] > 0


def test_filter_list_shows_list_values():
    r = run_cli("filter", "--list")
    assert r.returncode == 0
    assert "'as an ai language model'" in r.stdout and "items]" in r.stdout


def test_train_generate_and_merge_take_out():
    for sub in ("generate", "merge"):
        r = run_cli(sub, "--help", module="trainer")
        assert "-o OUT, --out OUT" in r.stdout and "--output" not in r.stdout, r.stdout
