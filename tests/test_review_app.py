"""The Textual app headless (`run_test` + `pilot.press`), and a review killed with SIGKILL."""

from __future__ import annotations

import pytest

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson

from curator.review.app import RecordList, ReviewApp
from curator.review.config import ReviewConfig, load_config
from curator.review.session import ReviewSession
from tests.conftest import ROOT
from tests.review_helpers import conv, dataset, injection_file, write_jsonl

SIZE = (120, 40)


def drive(path: Path, *keys: str, check=None, config: ReviewConfig | None = None, queue: str | None = None):
    """Open the app on `path`, press `keys` (a key may be a callable(app) run at that point)."""
    async def main():
        session = ReviewSession(path)
        if queue:
            session.set_filter(queue)
        app = ReviewApp(session, config)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for k in keys:
                if callable(k):
                    k(app)
                else:
                    await pilot.press(k)
                    await pilot.pause()
            result = check(app) if check else None
        session.close()
        return result
    return asyncio.run(main())


def reopen(path: Path) -> ReviewSession:
    return ReviewSession(path)


def screen_text(app) -> str:
    """What the terminal shows, as plain text (the SVG screenshot's text)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


@pytest.mark.slow
def test_accept_reject_tag_and_persist_across_restart(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 5)
    # accept row 0 (cursor advances), reject row 1 with reason #2 from the picker, quick-tag row 2
    drive(p, "a", "r", "2", "3", "j", "r", "tab", *"my own reason", "enter", "q")
    s = reopen(p)
    assert s.state(0).status == "accepted"
    assert s.state(1).status == "rejected" and s.state(1).reason == "hallucination"
    assert s.state(2).tags == ["bad_format"] and s.state(2).status == "pending"
    assert s.state(3).status == "rejected" and s.state(3).reason == "my own reason"
    s.close()
    # reopening resumes at the first pending record
    pos = drive(p, check=lambda app: app.review.rl.current)
    assert pos == 2


@pytest.mark.slow
def test_edit_in_textarea_and_undo(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 3)
    drive(p, "e", "end", *" (checked)", "ctrl+s", "a", "u")
    s = reopen(p)
    assert s.conversation(0).messages[1].content == "answer 0 (checked)"
    assert s.state(0).status == "pending"  # the accept was undone, the edit kept
    assert [h[3] for h in s.store.history()] == ["edit", "accept", "undo"]
    s.close()
    # [ selects the user message; Esc cancels an edit without logging anything
    drive(p, "left_square_bracket", "e", *"zzz", "escape", "q")
    s = reopen(p)
    assert len(s.store.history()) == 3
    s.close()
    drive(p, "left_square_bracket", "e", "home", *"Q: ", "ctrl+s")
    s = reopen(p)
    assert s.conversation(0).messages[0].content == "Q: question 0 about dogs"
    s.close()


@pytest.mark.slow
def test_search_navigation_filter_and_bulk(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 8)
    seen = {}

    def at(name):
        return lambda app: seen.__setitem__(name, app.review.rl.current)
    drive(p, "slash", *"CATS", "enter", at("s1"), "n", at("s2"), "N", at("s3"),
          "G", at("last"), "g", at("first"), "a", "a", "p", at("pend"),
          "f", "2", at("after_filter"), "A", "y", "q")
    assert seen == {"s1": 1, "s2": 3, "s3": 1, "last": 7, "first": 0, "pend": 3, "after_filter": 2}
    s = reopen(p)
    assert s.counts() == {"accepted": 8, "rejected": 0, "pending": 0}
    s.close()
    drive(p, "u", "q")  # the bulk accept is one undo
    s = reopen(p)
    assert s.counts()["accepted"] == 2
    s.close()
    # bulk reject needs a reason and a confirmation; "n" cancels
    drive(p, "f", *"status=pending", "R", "1", "n", "q")
    s = reopen(p)
    assert s.counts()["rejected"] == 0
    s.close()
    drive(p, "R", "1", "y", "q", queue="status=pending")
    s = reopen(p)
    assert s.counts() == {"accepted": 2, "rejected": 6, "pending": 0}
    assert {s.state(i).reason for i in range(2, 8)} == {"wrong_answer"}
    s.close()


def test_quick_tags_from_config_and_help(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 2)
    tags = tmp_path / "tags.yaml"
    tags.write_text("tags: [needs_source, math_error]\nreasons: [stale]\n")
    cfg = load_config(tags)
    text = drive(p, "2", "2", "2", "question_mark", config=cfg, check=screen_text)
    assert "math_error" in text and "undo the last decision" in text
    s = reopen(p)
    assert s.state(0).tags == ["math_error"]  # toggled on, off, on
    s.close()


def test_escape_injection_shows_literally(tmp_path):
    p = injection_file(tmp_path / "inj.jsonl")

    def check(app):
        texts = [screen_text(app)]
        for _ in range(2):
            app.review.rl.action_move(1)
            texts.append(screen_text(app))
        return app.title, texts
    title, texts = drive(p, check=check)
    assert title == "curate review"  # the OSC title sequence did not reach the app or terminal
    assert "[bold red]not bold[/]" in texts[0]
    assert "[red]id[/red]␛[5m" in texts[0]
    assert "␛[31mred?␛[0m" in texts[1] and "␛]0;pwned-title␇" in texts[1]
    assert "␇" in texts[2] and "␀" in texts[2]
    assert not any("\x1b" in t or "\x07" in t for t in texts)


@pytest.mark.slow
def test_list_is_virtual_on_a_large_file(tmp_path):
    n = 200_000
    p = tmp_path / "big.jsonl"
    with open(p, "wb") as fh:
        for i in range(n):
            fh.write(orjson.dumps(conv(i, f"question {i}", f"answer {i}")) + b"\n")

    def check(app):
        rl = app.review.query_one(RecordList)
        return rl.current, len(app.review.query("*")), app.session.decoded_rows, "question 199999" in screen_text(app)
    current, widgets, cached, shown = drive(p, "G", "a", check=check)
    assert current == n - 1 and shown
    assert widgets < 50 and cached < 200  # widgets and decoded rows do not grow with the file
    s = reopen(p)
    assert s.state(n - 1).status == "accepted"
    s.close()


KILLED = textwrap.dedent("""
    import asyncio, sys, time
    from curator.review.app import ReviewApp
    from curator.review.session import ReviewSession

    async def main():
        s = ReviewSession(sys.argv[1])
        app = ReviewApp(s)
        async with app.run_test(size=(100, 30)) as pilot:
            for k in ["a", "r", "1", "4"]:
                await pilot.press(k)
                await pilot.pause()
            print("DECIDED", flush=True)
            time.sleep(600)  # killed here, mid-session, with the app still running
    asyncio.run(main())
""")


def test_decisions_survive_kill_9(tmp_path):
    p = dataset(tmp_path / "d.jsonl", 5)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(p)], stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "DECIDED"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    s = reopen(p)
    assert s.state(0).status == "accepted"
    assert s.state(1).status == "rejected" and s.state(1).reason == "wrong_answer"
    assert s.state(2).tags == ["unsafe"]
    assert s.first_pending() == 2
    s.close()
