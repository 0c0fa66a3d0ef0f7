"""IFD and perplexity on the tiny offline model, and `select --score-model` using them."""

from __future__ import annotations

import json
import math

import pytest

from curator.record import Conversation, Message
from tests.conftest import run_cli

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from trainer.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


def _conv(i: int, prompt: str, answer: str | None) -> Conversation:
    msgs = [Message("user", prompt)] + ([Message("assistant", answer)] if answer is not None else [])
    return Conversation(messages=msgs, id=f"c{i}")


def test_ifd_and_ppl_match_a_direct_computation(tiny):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from curator.select_lm import LMScorer

    convs = [_conv(0, "What is 2+2?", "4, because two and two make four."), _conv(1, "你好", "你好！有什么可以帮你？"),
             _conv(2, "no answer here", None)]
    scorer = LMScorer(tiny, batch_size=2)
    scorer(convs)
    assert scorer.scored == 2 and scorer.skipped == 1 and "scores" not in convs[2].meta
    # the same numbers one record at a time, without padding
    tok = AutoTokenizer.from_pretrained(tiny)
    model = AutoModelForCausalLM.from_pretrained(tiny).eval()

    def loss(ctx: list[int], ans: list[int]) -> float:
        ids = torch.tensor([ctx + ans])
        labels = torch.tensor([[-100] * len(ctx) + ans])
        with torch.no_grad():
            return float(model(input_ids=ids, labels=labels).loss)

    for c in convs[:2]:
        p = tok.apply_chat_template([{"role": "user", "content": c.messages[0].content}], tokenize=False,
                                    add_generation_prompt=True)
        pi = tok(p, add_special_tokens=False)["input_ids"]
        ai = tok(c.messages[1].content, add_special_tokens=False)["input_ids"]
        start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        lc, lb = loss(pi, ai), loss([start], ai)
        assert c.meta["scores"]["ppl"] == pytest.approx(math.exp(lc), rel=1e-3)
        assert c.meta["scores"]["ifd"] == pytest.approx(lc / lb, rel=1e-3)


@pytest.mark.slow
def test_select_with_score_model(tiny, tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i} about topic {i * 13}"},
                                          {"role": "assistant", "content": f"answer {i} " * (i + 1)}]}
            for i in range(6)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = run_cli("select", str(src), "-o", str(tmp_path / "o.jsonl"), "--budget", "3", "--score", "ifd",
                "--score-model", str(tiny), "--batch-size", "4", "--threshold", "1.0")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    left = [json.loads(x) for x in (tmp_path / "o.unselected.jsonl").read_text().splitlines()]
    assert len(out) == 3 and len(left) == 3
    ifd_out = sorted(o["meta"]["scores"]["ifd"] for o in out)
    ifd_left = sorted(o["meta"]["scores"]["ifd"] for o in left)
    assert ifd_out[0] >= ifd_left[-1]  # the highest IFD were selected (distance test off)
    assert all("ppl" in o["meta"]["scores"] for o in out + left)
