"""Issue #18's proof: the annotator's loop, end to end, on real data, with nothing edited by hand.

distill (a loopback teacher that refuses some prompts on the first draw) -> filter (refusals and an
annotator's typo'd record land in the rejects) -> review, headless (fix the typo with one key and
accept it, accept one refusal as a fine decline, reject one as a badcase) -> review export ->
distill regenerates the badcase -> best-of-K on GSM8K with the gold answers -> filter keeps what
best-of-K chose and what the reviewer accepted -> mix -> split -> train the tiny model a few steps
-> train generate on the eval prompts -> review shows each answer beside the answer it replaced.
Every manifest balances: in (+ copies) = out + rejected + excluded.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from curator.answer_match import last_number
from curator.rejects import manifest_path, read_rejects, rejects_path
from tests.chat_server import ChatServer
from tests.conftest import run_cli

pytest.importorskip("textual")
REFUSAL = "I'm sorry, but I can't help with that."


class LoopTeacher(ChatServer):
    """A teacher with a bad first draw on some prompts (like sampling at temperature > 0), and
    GSM8K candidates of which exactly one (sample 1) reaches the gold answer."""

    def __init__(self, refuse_first: set[str], gold: dict[str, int]):
        super().__init__()
        self.refuse_first = refuse_first
        self.gold = gold

    def completion(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        resp = super().completion(body, kind)
        last = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
        if last in self.gold:
            for i, ch in enumerate(resp["choices"]):
                ch["message"]["content"] = f"Working it out step by step, the answer is {self.gold[last] + i - 1}."
        elif last in self.refuse_first and self.prompts[last] == 1:
            resp["choices"][0]["message"]["content"] = REFUSAL
        return resp


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def balanced(out: Path) -> dict:
    """The manifest's counts, checked: in (+ copies) = out + rejected + excluded, and the files agree."""
    man = json.loads(manifest_path(out).read_text())
    c = man["counts"]
    assert c["balanced"], (out.name, c)
    assert c["in"] + c.get("copies_added", 0) == c["out"] + c["rejected"] + c.get("excluded", 0), (out.name, c)
    assert len(read_rejects(rejects_path(out))) == c["rejected"], out.name
    return man


def cli(*args: str, env: dict | None = None, module: str = "curator"):
    r = run_cli(*args, env={"OPENAI_API_KEY": "sk-loopback", **(env or {})}, module=module)
    assert r.returncode == 0, f"{args[0]}: {r.stderr}"
    return r


def review(path: Path, steps: list[tuple[int, str]]) -> None:
    """Drive the real review app headless: for each (row index, keys) move there and press the keys."""
    from curator.review.app import ReviewApp
    from curator.review.session import ReviewSession

    async def main():
        session = ReviewSession(path)
        app = ReviewApp(session, None)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            for idx, keys in steps:
                app.review.rl.move_to(int(list(session.view).index(idx)))
                await pilot.pause()
                for k in keys:
                    await pilot.press(k)
                    await pilot.pause()
        session.close()
    asyncio.run(main())


def screen_of(path: Path, idx: int) -> str:
    from curator.review.app import ReviewApp
    from curator.review.session import ReviewSession
    from tests.test_review_app import screen_text

    async def main():
        session = ReviewSession(path)
        app = ReviewApp(session, None)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            app.review.rl.move_to(idx)
            await pilot.pause()
            text = screen_text(app)
        session.close()
        return text
    return asyncio.run(main())


@pytest.mark.slow
def test_the_badcase_loop_closes(real, tmp_path):
    pytest.importorskip("trl")
    from trainer.tiny import build_tiny_model

    w = tmp_path
    en = json.loads((real / "alpaca_en_demo.json").read_text(encoding="utf-8"))
    zh = json.loads((real / "alpaca_zh_demo.json").read_text(encoding="utf-8"))
    gsm = json.loads((real / "gsm8k_train_alpaca.json").read_text(encoding="utf-8"))[:3]
    picked = [r for r in en[:40] if not r["input"] and len(r["instruction"]) < 120][:8] + \
             [r for r in zh[:40] if not r["input"] and len(r["instruction"]) < 60][:4]
    prompts = write_jsonl(w / "prompts.jsonl", [{"messages": [{"role": "user", "content": r["instruction"]}]}
                                                for r in picked])
    refuse = {picked[1]["instruction"], picked[3]["instruction"], picked[9]["instruction"]}
    # The annotator's own file: a real record with the role mistyped, the most common reject.
    typo = write_jsonl(w / "handwritten.jsonl", [{"messages": [
        {"role": "user", "content": en[50]["instruction"]}, {"role": "asistant", "content": en[50]["output"]}]}])
    # This GSM8K export has no "####": the gold answer is the solution's last number.
    gold = {r["instruction"]: int(last_number(r["output"]).replace(",", "")) for r in gsm}
    gsm_file = write_jsonl(w / "gsm8k.jsonl", [{"messages": [{"role": "user", "content": r["instruction"]},
                                                             {"role": "assistant", "content": r["output"]}]} for r in gsm])

    with LoopTeacher(refuse, gold) as teacher:
        url = ["--model", "teacher", "--base-url", teacher.url, "--no-progress"]
        # 1. distill: every prompt filled
        r = cli("distill", str(prompts), "-o", str(w / "d1.jsonl"), *url)
        assert "12 filled, 0 regenerated" in r.stderr
        balanced(w / "d1.jsonl")
        # 2. filter: the three refusals and the typo'd record are rejects
        cli("filter", str(typo), str(w / "d1.jsonl"), "-o", str(w / "f1.jsonl"))
        man = balanced(w / "f1.jsonl")
        assert man["counts"]["rejected_by_reason"] == {"refusal": 3, "unknown_role": 1}
        queue = w / "f1.rejects.jsonl"
        rej = read_rejects(queue)
        i_typo = next(i for i, x in enumerate(rej) if x["reason"] == "unknown_role")
        i_ref = [i for i, x in enumerate(rej) if x["reason"] == "refusal"]

        # 3. review: x fixes the typo (the fix its message suggests) and a accepts it; one refusal is
        #    accepted (the annotator judges it fine), one rejected as a badcase (r, reason 1); one stays pending
        review(queue, [(i_typo, ["x", "a"]), (i_ref[0], ["a"]), (i_ref[1], ["r", "1"])])
        r = cli("review", "export", str(queue), "--accepted", str(w / "accepted.jsonl"),
                "--badcases", str(w / "badcases.jsonl"))
        man = balanced(w / "accepted.jsonl")
        assert man["review"]["accepted"] == 2 and man["review"]["badcases"] == 1 and man["review"]["pending"] == 1
        fixed = next(x for x in rows(w / "accepted.jsonl") if x["meta"]["review"].get("edited"))
        assert [m["role"] for m in fixed["messages"]] == ["user", "assistant"]
        assert rows(w / "badcases.jsonl")[0]["messages"][-1]["content"] == REFUSAL

        # 4. distill regenerates the badcase (a new draw, not the cached refusal); the pending reject is
        #    fed back as it is, straight from the rejects file
        r = cli("distill", str(w / "badcases.jsonl"), str(queue), "-o", str(w / "d2.jsonl"), *url)
        man = balanced(w / "d2.jsonl")
        assert man["answers"]["regenerated"] >= 2, man["answers"]
        assert "regenerated (answer was rejected)" in r.stderr
        regen = [x for x in rows(w / "d2.jsonl") if "regenerated" in x["meta"]]
        assert all(x["messages"][-1]["content"] != REFUSAL and x["meta"]["previous_answer"] == REFUSAL
                   for x in regen)

        # 5. best-of-K on GSM8K: the solutions are gold (said with --answer-as-reference always, as this
        #    export has no "####"), sample 1 matches; pairs have a margin
        cli("bestofk", str(gsm_file), "-o", str(w / "best.jsonl"), "--model", "teacher", "--base-url", teacher.url,
            "--k", "3", "--rubric", "answer_matches_reference", "--pairs", str(w / "pairs.jsonl"),
            "--answer-as-reference", "always")
        man = balanced(w / "best.jsonl")
        assert man["counts"]["out"] == 3 and man["bestofk"]["pairs"] == 3
        assert all(p["meta"]["score_chosen"] > p["meta"]["score_rejected"] for p in rows(w / "pairs.jsonl"))

    # 6. filter keeps what best-of-K chose, what the reviewer accepted, and the regenerated answers
    cli("filter", str(w / "best.jsonl"), "-o", str(w / "best_f.jsonl"))
    assert balanced(w / "best_f.jsonl")["counts"]["out"] == 3
    r = cli("filter", str(w / "f1.jsonl"), str(w / "accepted.jsonl"), str(w / "d2.jsonl"), "-o", str(w / "f2.jsonl"))
    man = balanced(w / "f2.jsonl")
    assert man["kept_reviewed"] == 2 and man["counts"]["rejected"] == 0
    assert not any("rejected" in x["meta"] for x in rows(w / "f2.jsonl"))

    # 7. mix -> split -> train (tiny, a few steps) -> generate on the eval prompts
    cli("mix", f"{w / 'f2.jsonl'}:0.8", f"{w / 'best_f.jsonl'}:0.2", "-o", str(w / "mix.jsonl"))
    balanced(w / "mix.jsonl")
    cli("split", str(w / "mix.jsonl"), "--train", str(w / "train.jsonl"), "--eval", str(w / "eval.jsonl"),
        "--eval-size", "3")
    split_man = json.loads(manifest_path(w / "train.jsonl").read_text())["counts"]
    assert len(rows(w / "train.jsonl")) + len(rows(w / "eval.jsonl")) == split_man["in"] - split_man["rejected"]
    tiny = build_tiny_model(w / "tiny")
    cli(str(w / "train.jsonl"), "--model", str(tiny), "-o", str(w / "model"), "max_steps=3", "batch_size=2",
        "grad_accum=1", "logging_steps=1", module="trainer")
    cli("generate", str(w / "model"), "--prompts", str(w / "eval.jsonl"), "-o", str(w / "gen.jsonl"),
        "--max-new-tokens", "8", module="trainer")
    gen = rows(w / "gen.jsonl")
    balanced(w / "gen.jsonl")
    # the eval answer is the reference the model is measured against (kept as the message)
    assert len(gen) == 3 and all(g["meta"]["reference"]["content"] for g in gen)

    # 8. review shows the model's answer beside the reference, as text (never {'role': ...})
    shown = screen_of(w / "gen.jsonl", 0)
    ref = gen[0]["meta"]["reference"]["content"]
    assert "reference" in shown and ref.split()[0] in shown and "'role'" not in shown
