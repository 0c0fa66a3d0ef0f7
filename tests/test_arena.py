"""Blind A/B review: pairing, hidden labels, decisions saved at once and resumed, win rate, and
agreement (annotators, annotators vs a pairwise judge on a real loopback server) — kappa checked
against scikit-learn."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson
import pytest

from curator.review.arena import ArenaStore, default_db, load_pairs
from curator.review.arena_stats import cohen_kappa, summarize, win_rate
from tests.chat_server import ChatServer
from tests.conftest import run_cli
from tests.test_review_app import screen_text


def _files(tmp_path: Path, n: int = 8) -> tuple[Path, Path]:
    a, b = tmp_path / "model_one.jsonl", tmp_path / "model_two.jsonl"
    rows_a, rows_b = [], []
    for i in range(n):
        prompt = {"role": "user", "content": f"问题{i}"}
        # the pairwise judge on the loopback server echoes the answer shown first: "[[A]]" in an
        # answer makes it win in both orders, "[[B]]" makes it lose in both
        win_a = i % 3 != 0
        rows_a.append({"id": f"q{i}", "messages": [prompt, {"role": "assistant", "content": f"甲{i} " + ("[[A]]" if win_a else "[[B]]")}]})
        rows_b.append({"id": f"q{i}", "messages": [prompt, {"role": "assistant", "content": f"乙{i} " + ("[[B]]" if win_a else "[[A]]")}]})
    rows_b.append({"id": "only-b", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]})
    a.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows_a))
    b.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows_b))
    return a, b


def test_pairs_random_sides_and_unpaired_counted(tmp_path):
    a, b = _files(tmp_path, 40)
    pairs, counts = load_pairs(a, b)
    assert len(pairs) == 40 and counts["unpaired_b"] == 1 and counts["paired_by"] == "id"
    lefts = sum(p.a_left for p in pairs)
    assert 10 < lefts < 30  # each model is on the left about half the time
    assert [p.a_left for p in load_pairs(a, b)[0]] == [p.a_left for p in pairs]  # same order on every open


@pytest.mark.slow
def test_app_blind_keys_saved_at_once_and_resumed(tmp_path):
    from curator.review.arena_app import ArenaApp

    a, b = _files(tmp_path)
    pairs, _ = load_pairs(a, b)
    db = default_db(a, b)

    async def session(keys):
        store = ArenaStore(db, a, b)
        app = ArenaApp(store, pairs, "wang")
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            first = screen_text(app)
            for k in keys:
                await pilot.press(k)
                await pilot.pause()
            pos = app.pos
        store.close()
        return first, pos

    first, pos = asyncio.run(session(["1", "2", "t", "b", *"too short", "enter"]))
    assert "model_one" not in first and "model_two" not in first  # labels hidden
    assert "LEFT" in first and "RIGHT" in first and "问题0" in first
    assert pos == 4
    store = ArenaStore(db, a, b)
    mine = store.latest("wang")["wang"]
    # "1" = left better: the winner is whichever model was on the left of pair 0
    assert mine[pairs[0].key] == ("a" if pairs[0].a_left else "b")
    assert mine[pairs[1].key] == ("b" if pairs[1].a_left else "a")
    assert mine[pairs[2].key] == "tie" and mine[pairs[3].key] == "both_bad"
    assert store.reasons()[0]["reason"] == "too short"
    store.close()
    _, pos = asyncio.run(session([]))  # resumed: the first pair this annotator has not decided
    assert pos == 4


@pytest.mark.slow
def test_two_annotators_win_rate_and_kappa_equal_sklearn(tmp_path):
    metrics = pytest.importorskip("sklearn.metrics")
    a, b = _files(tmp_path, 30)
    pairs, _ = load_pairs(a, b)
    store = ArenaStore(tmp_path / "x.sqlite", a, b)
    choices = ["left", "right", "tie", "both_bad"]
    for i, p in enumerate(pairs):
        store.decide(p, "li", choices[i % 4])
        store.decide(p, "wang", choices[(i * 7 // 5) % 4])
    store.decide(pairs[0], "li", "right")  # a change of mind: the latest decision counts
    s = summarize(store)
    li, wang = store.latest()["li"], store.latest()["wang"]
    keys = sorted(li)
    want = metrics.cohen_kappa_score([li[k] for k in keys], [wang[k] for k in keys])
    assert s["inter_annotator"]["li vs wang"]["kappa"] == pytest.approx(want, abs=1e-12)
    w = s["per_annotator"]["li"]
    vals = [{"a": 1, "tie": 0.5, "b": 0}[v] for v in li.values() if v != "both_bad"]
    assert w["a_win_rate"] == pytest.approx(sum(vals) / len(vals)) and w["ci"][0] <= w["a_win_rate"] <= w["ci"][1]
    assert cohen_kappa(["a", "b"], ["a", "b"]) == 1.0 and win_rate([])["a_win_rate"] is None
    store.close()


@pytest.mark.slow
def test_eval_arena_with_pairwise_judge_on_loopback_server(tmp_path):
    metrics = pytest.importorskip("sklearn.metrics")
    a, b = _files(tmp_path, 9)
    pairs, _ = load_pairs(a, b)
    db = tmp_path / "arena.sqlite"
    store = ArenaStore(db, a, b)
    human = {}
    for i, p in enumerate(pairs):  # the annotator agrees with the judge except on two pairs
        truth = "a" if i % 3 != 0 else "b"
        winner = truth if i not in (1, 2) else ("tie" if i == 1 else ("b" if truth == "a" else "a"))
        choice = "tie" if winner == "tie" else ("left" if (winner == "a") == p.a_left else "right")
        human[p.key] = store.decide(p, "li", choice)
    store.close()
    with ChatServer() as server:
        r = run_cli("eval", "--arena", str(db), "-o", str(tmp_path / "arena.json"), "--judge", "pairwise_helpfulness",
                    "--judge-model", "test-model", "--judge-base-url", server.url, env={"OPENAI_API_KEY": "k"})
        assert r.returncode == 0, r.stderr
        assert server.requests == 2 * len(pairs)  # both orders per pair
    res = json.loads((tmp_path / "arena.json").read_text())
    j = res["judge"]["pairwise_helpfulness"]
    assert j["judged"] == 9 and j["judge_win_rate"]["a_wins"] == 6 and j["judge_win_rate"]["b_wins"] == 3
    judge_w = {p.key: ("a" if i % 3 != 0 else "b") for i, p in enumerate(pairs)}
    keys = sorted(human)
    want = metrics.cohen_kappa_score([human[k] for k in keys], [judge_w[k] for k in keys])
    assert j["vs_annotators"]["li"]["kappa"] == pytest.approx(want, abs=1e-12)
    assert "kappa" in r.stderr and "wins" in res["verdict"]
    assert len(res["decisions"]) == 9 and {d["annotator"] for d in res["decisions"]} == {"li"}
    r = run_cli("eval", "--arena", str(tmp_path / "nope.sqlite"), "-o", str(tmp_path / "x.json"))
    assert r.returncode == 2 and "no such arena database" in r.stderr
