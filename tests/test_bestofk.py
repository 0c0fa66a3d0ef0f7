"""`curate bestofk` end to end against the loopback server, with scorers whose best answer is known."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("curator.generation", reason="needs the distill generation layer")
from curator.rejects import manifest_path, read_rejects, rejects_path  # noqa: E402
from tests.conftest import run_cli  # noqa: E402
from tests.scripted_server import ScriptedServer  # noqa: E402

PROMPTS = [
    # best is Q=9 (sample 2); sample 3 duplicates sample 0 and is dropped before scoring
    {"messages": [{"role": "user", "content": "Explain tides. CANDS: Tides come from the moon. Q=3 | "
                   "The moon and sun pull the oceans. Q=7 | Gravity of the moon and sun raises bulges of water. Q=9 "
                   "| Tides come from the moon. Q=3"}]},
    # nothing reaches --min-score 5: a badcase reject with all candidates
    {"messages": [{"role": "user", "content": "什么是熵？ CANDS: 不知道。Q=1 | 熵就是混乱。Q=2 | 熵是热力学量。Q=3 | 随便。Q=0"}]},
    # a tie between samples 1 and 2 -> the lower sample index wins
    {"messages": [{"role": "user", "content": "Name a prime. CANDS: Nine. Q=1 | Seven. Q=8 | Eleven. Q=8 | Four. Q=0"}]},
]


@pytest.fixture
def prompts(tmp_path):
    p = tmp_path / "prompts.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in PROMPTS) + "\n", encoding="utf-8")
    return p


def rows(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def bestofk(server, prompts, out, *extra):
    return run_cli("bestofk", str(prompts), "-o", str(out), "--model", "test-model", "--base-url", server.url,
                   "--k", "4", *extra, env={"OPENAI_API_KEY": "sk-test"})


@pytest.mark.parametrize("honour_n", [True, False])
@pytest.mark.slow
def test_bestofk_picks_known_best_and_rejects_badcases(prompts, tmp_path, honour_n):
    with ScriptedServer(honour_n=honour_n) as srv:
        out = tmp_path / "best.jsonl"
        pairs = tmp_path / "pairs.jsonl"
        r = bestofk(srv, prompts, out, "--rubric", "tests.rubric_funcs:quality_tag", "--min-score", "5",
                    "--pairs", str(pairs), "--keep-candidates")
        assert r.returncode == 0, r.stderr
        got = rows(out)
        assert [g["messages"][-1]["content"] for g in got] == [
            "Gravity of the moon and sun raises bulges of water. Q=9", "Seven. Q=8"]
        trail = got[0]["meta"]["bestofk"]
        assert trail["chosen"] == 2 and trail["unique"] == 3
        assert [c.get("duplicate_of") for c in trail["candidates"]] == [None, None, None, 0]
        assert trail["candidates"][0]["score"] == 3.0 and trail["candidates"][0]["text"].startswith("Tides")
        assert got[0]["meta"]["scores"]["quality_tag"] == 9.0
        assert got[1]["meta"]["bestofk"]["chosen"] == 1  # tie at 8: lower sample index
        rej = read_rejects(rejects_path(out))
        assert [x["reason"] for x in rej] == ["no_passing_candidate"] and rej[0]["line"] == 2
        assert len(rej[0]["record"]["meta"]["bestofk"]["candidates"]) == 4
        assert all("text" in c for c in rej[0]["record"]["meta"]["bestofk"]["candidates"])
        man = json.loads(manifest_path(out).read_text())
        assert man["counts"]["balanced"] and man["counts"]["in"] == 3
        assert man["generation"]["n_mode"] == ("n" if honour_n else "seeds")
        p = rows(pairs)
        assert [x["chosen"][0]["content"] for x in p] == [g["messages"][-1]["content"] for g in got]
        assert p[0]["rejected"][0]["content"] == "Tides come from the moon. Q=3"
        assert p[0]["prompt"][-1]["role"] == "user"

        # Resume: the same command again sends no request and writes the same bytes.
        before = srv.requests
        out2 = tmp_path / "best2.jsonl"
        r = bestofk(srv, prompts, out2, "--rubric", "tests.rubric_funcs:quality_tag", "--min-score", "5",
                    "--pairs", str(tmp_path / "pairs2.jsonl"), "--keep-candidates", "--cache",
                    str(tmp_path / "best.cache.sqlite"))
        assert r.returncode == 0, r.stderr
        assert srv.requests == before
        assert out2.read_bytes() == out.read_bytes()


@pytest.mark.slow
def test_bestofk_with_judge_unparseable_and_cache(prompts, tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"messages": [{"role": "user", "content": "Say hi. CANDS: Hello! Q=6 | Hi there. Q=9 | "
                                             "Hey. Q=bad | Greetings. Q=11"}]}) + "\n", encoding="utf-8")
    with ScriptedServer() as srv:
        out = tmp_path / "j.jsonl"
        r = bestofk(srv, src, out, "--rubric", "helpfulness", "--judge-model", "judge", "--judge-base-url", srv.url,
                    "--judge-retries", "1")
        assert r.returncode == 0, r.stderr
        got = rows(out)[0]
        assert got["messages"][-1]["content"] == "Hi there. Q=9"
        cands = got["meta"]["bestofk"]["candidates"]
        # Q=bad rambles (retried once, then unparseable, no value); Q=11 is out of range: unparseable too.
        assert cands[2]["status"] == "unparseable" and cands[2]["score"] is None
        assert cands[3]["status"] == "unparseable" and "outside the scale" in cands[3]["explanation"]
        assert srv.judge_requests == 2 + 2 * 2  # two good verdicts, two bad ones asked twice each
        n = srv.requests
        r = bestofk(srv, src, tmp_path / "j2.jsonl", "--rubric", "helpfulness", "--judge-model", "judge",
                    "--judge-base-url", srv.url, "--judge-retries", "1", "--cache", str(tmp_path / "j.cache.sqlite"))
        assert r.returncode == 0 and srv.requests == n  # judge calls come from the cache too


def test_bestofk_pairwise_judge(prompts, tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"messages": [{"role": "user", "content": "Pick. CANDS: A one. Q=2 | B two. Q=8 | C three. Q=5"}]})
                   + "\n", encoding="utf-8")
    with ScriptedServer() as srv:
        out = tmp_path / "pw.jsonl"
        r = run_cli("bestofk", str(src), "-o", str(out), "--model", "m", "--base-url", srv.url, "--k", "3",
                    "--rubric", "pairwise_helpfulness", "--judge-model", "judge", "--judge-base-url", srv.url,
                    env={"OPENAI_API_KEY": "sk-test"})
        assert r.returncode == 0, r.stderr
        got = rows(out)[0]
        assert got["messages"][-1]["content"] == "B two. Q=8"
        assert [c["score"] for c in got["meta"]["bestofk"]["candidates"]] == [0.0, 1.0, 0.5]
        assert srv.judge_requests == 6  # 3 pairs x both orders
