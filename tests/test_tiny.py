"""The offline tiny model: builds, its template marks assistant tokens (with end-of-turn), it generates."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")


def test_tiny_model_template_masks_assistant_and_eos(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.tiny import build_tiny_model

    path = build_tiny_model(tmp_path / "tiny")
    tok = AutoTokenizer.from_pretrained(path)
    msgs = [{"role": "user", "content": "你好 hello"},
            {"role": "assistant", "content": "hi there", "reasoning_content": "think first"}]
    enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    trained = tok.decode([i for i, k in zip(enc["input_ids"], enc["assistant_masks"]) if k])
    assert trained == "<think>\nthink first\n</think>\n\nhi there<|im_end|>"
    assert "你好 hello" in tok.decode(enc["input_ids"])  # byte-level: nothing is unknown
    model = AutoModelForCausalLM.from_pretrained(path)
    prompt = tok.apply_chat_template(msgs[:1], add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=4, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_tiny_reward_model_gives_one_logit(tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from trainer.tiny import build_tiny_model

    path = build_tiny_model(tmp_path / "rm", kind="reward")
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path)
    batch = tok(["a short text", "a somewhat longer text here"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, 1)
