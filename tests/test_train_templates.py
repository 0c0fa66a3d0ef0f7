"""Every chat template shipped inside the installed TRL wheel, set on the tiny tokenizer (no hub):
the text train tokenizes is `apply_chat_template`'s, byte for byte, and only assistant turns and
their end-of-turn token are trained — checked by decoding the trained tokens."""

from __future__ import annotations

import copy
import re

import pytest

pytest.importorskip("trl")

from curator.errors import RowError  # noqa: E402
from curator.record import Conversation, Message  # noqa: E402
from trainer.spans import text_of  # noqa: E402
from trainer.templates import trl_template_dir  # noqa: E402

TEMPLATES = sorted(p.stem for p in trl_template_dir().glob("*.jinja") if not p.stem.endswith("_training"))
# The family's control tokens, read off the template's string literals and added to the tiny vocabulary.
TOKEN_RE = re.compile(r"<\|[^<>\s|]{1,40}\|?>|<[^<>\s|]{1,40}\|>|<｜[^<>]{1,40}?｜>|<(?:start|end)_of_turn>|<bos>|"
                      r"<end_of_utterance>|</s>")

SYS = "你是一个乐于助人的助手，请用中文回答。"
CALLS = [{"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "北京"}'}}]
TOOLS = [{"name": "get_weather", "description": "查询天气", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
SCENARIOS = {
    "plain": Conversation([Message("system", SYS), Message("user", "北京在哪里？"), Message("assistant", "北京在中国北方。"),
                           Message("user", "上海呢？"), Message("assistant", "上海在东部沿海。")]),
    "tools": Conversation([Message("system", SYS), Message("user", "北京天气如何？"), Message("assistant", "", tool_calls=CALLS),
                           Message("tool", "晴，二十五度", tool_call_id="call_0", name="get_weather"),
                           Message("assistant", "北京今天晴。")], tools=TOOLS),
    "reasoning": Conversation([Message("system", SYS), Message("user", "二加二？"), Message("assistant", "等于四。", reasoning="先想二加二"),
                               Message("user", "三加三？"), Message("assistant", "等于六。", reasoning="再想三加三")]),
}
PROMPT_TEXT = [SYS, "北京在哪里？", "上海呢？", "北京天气如何？", "晴，二十五度", "二加二？", "三加三？"]


@pytest.fixture(scope="module")
def base_tok():
    from tests.conftest import SAMPLE
    from trainer.tiny import _sample_texts, build_tokenizer

    return build_tokenizer(_sample_texts(SAMPLE))


def family_tokenizer(base_tok, name: str):
    text = (trl_template_dir() / f"{name}.jinja").read_text(encoding="utf-8")
    tok = copy.deepcopy(base_tok)
    tok.add_special_tokens({"additional_special_tokens": sorted(set(TOKEN_RE.findall(text))), "bos_token": "<bos>"})
    tok.chat_template = text
    return tok


def without_system(conv: Conversation) -> Conversation:
    return Conversation([m for m in conv.messages if m.role != "system"], tools=conv.tools)


def build(tok, info, conv, **kw):
    from trainer.chat_rows import to_messages
    from trainer.masking import build_example

    row = to_messages(conv, reasoning_key=info.reasoning_key, arguments=info.arguments,
                      content_blocks=info.content_blocks, **kw)
    return row, build_example(row, tok, info)


def trained_spans(tok, ex) -> list[str]:
    from trainer.preview import segments

    return [t for t, on in segments(ex["input_ids"], ex["labels"], tok) if on]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_trl_template_trains_its_own_text_and_only_assistant_turns(base_tok, name):
    from trainer.masking import prepare_template

    tok = family_tokenizer(base_tok, name)
    own = tok.chat_template
    info = prepare_template(tok)
    # image-text templates render only content blocks: they get them, and nothing else does
    assert info.content_blocks == (name in ("idefics3", "llava_next", "smolvlm"))
    assert tok.chat_template == own  # the model's template is never replaced
    assert info.eot_ids and info.mask_source in ("markers", "trl-variant", "incremental")
    checked = 0
    for scenario, conv in SCENARIOS.items():
        try:
            try:
                row, ex = build(tok, info, conv)
            except RowError as e:
                if "System role not supported" not in e.message:
                    raise
                row, ex = build(tok, info, without_system(conv))  # Gemma 1/2 take no system turn
        except RowError as e:
            if scenario != "tools":
                raise
            # a template without tool support: the record is refused with the reason, never trained without its calls
            assert e.code in ("template_error", "template_drops_tool_calls") and info.tool_calls != "rendered", e.message
            continue
        want = tok.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
        assert tok.decode(ex["input_ids"]) == want  # byte for byte
        assert ex["input_ids"] == tok.apply_chat_template(row["messages"], tools=row["tools"], tokenize=True,
                                                          return_dict=True)["input_ids"]
        spans = trained_spans(tok, ex)
        turns = [m for m in row["messages"] if m["role"] == "assistant"]
        assert len(spans) == len(turns), (scenario, spans)
        for span, turn in zip(spans, turns):
            assert not any(p in span for p in PROMPT_TEXT), (scenario, span)  # no prompt text is trained
            answer = text_of(turn["content"]).split("</think>")[-1].strip()  # inline reasoning: R1-style <think> block
            if answer:
                assert answer in span, (scenario, span)
            for call in turn.get("tool_calls") or []:
                assert call["function"]["name"] in span
        ends = [span.rstrip() for span in spans]
        open_last = info.open_last and not any(ends[-1].endswith(t) for t in info.eot_tokens)
        for end in ends[:-1] if open_last else ends:  # every turn ends with its end-of-turn token: the model learns to stop
            assert any(end.endswith(t) for t in info.eot_tokens), (scenario, end, info.eot_tokens)
        if scenario == "tools":
            assert '\\"city\\"' not in want  # arguments are objects, not double-encoded JSON strings
        if scenario == "reasoning":
            present = "再想三加三" in want
            assert present == (info.reasoning in ("native", "inline")), info.reasoning
            if present:
                assert "再想三加三" in spans[-1]  # the final answer's reasoning is trained
        checked += 1
    assert checked >= 2


def test_qwen2_5_keeps_its_system_prompt_tools_block_and_tool_responses(base_tok):
    """The issue's case: Qwen2.5's own rendering — default system prompt, <tools>, <tool_response>
    inside a user turn — is what is trained, masked by TRL's variant of exactly that template."""
    from trainer.masking import prepare_template

    tok = family_tokenizer(base_tok, "qwen2_5")
    info = prepare_template(tok)
    assert (info.mask_source, info.variant_name) == ("trl-variant", "qwen2_5_training.jinja")
    conv = without_system(SCENARIOS["tools"])
    row, ex = build(tok, info, conv)
    text = tok.decode(ex["input_ids"])
    assert "You are Qwen, created by Alibaba Cloud." in text and "<tools>" in text
    assert "<|im_start|>user\n<tool_response>\n晴，二十五度\n</tool_response>" in text
    assert '{"name": "get_weather", "arguments": {"city": "北京"}}' in text
    assert ex["mask_source"] == "trl-variant"
    assert [s.strip() for s in trained_spans(tok, ex)] == [
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "北京"}}\n</tool_call><|im_end|>', "北京今天晴。<|im_end|>"]


def test_qwen3_drops_earlier_thinking_itself_and_reasoning_drop_removes_all(base_tok):
    from trainer.masking import prepare_template

    tok = family_tokenizer(base_tok, "qwen3")
    info = prepare_template(tok)
    assert (info.reasoning_key, info.reasoning) == ("reasoning_content", "native")
    row, ex = build(tok, info, SCENARIOS["reasoning"])
    text = tok.decode(ex["input_ids"])
    assert "先想二加二" not in text and "再想三加三" in text  # Qwen3 keeps only the latest turn's thinking
    assert ex["mask_source"] == "incremental"  # TRL's variant keeps every turn's thinking: not the same text
    assert trained_spans(tok, ex) == ["等于四。<|im_end|>", "<think>\n再想三加三\n</think>\n\n等于六。<|im_end|>"]
    row, ex = build(tok, info, SCENARIOS["reasoning"], reasoning="drop")
    assert "三加三\n</think>" not in tok.decode(ex["input_ids"])


@pytest.mark.slow
def test_preview_names_the_mask_source(base_tok, tmp_path):
    import json

    from tests.conftest import run_cli

    tok = family_tokenizer(base_tok, "qwen3")
    tok.save_pretrained(tmp_path / "qwen3-tok")  # preview needs only the tokenizer
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(SCENARIOS["reasoning"].to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    r = run_cli(str(data), "--model", str(tmp_path / "qwen3-tok"), "--preview", "1", module="trainer")
    assert r.returncode == 0, r.stderr
    assert "template: the model's own template" in r.stdout
    assert "mask: incremental rendering" in r.stdout and "mask: incremental)" in r.stdout
    assert "⟦<think>\n再想三加三\n</think>\n\n等于六。<|im_end|>⟧" in r.stdout


@pytest.mark.slow
def test_a_real_run_on_qwen3s_own_template_saves_it_unchanged(tmp_path):
    """One tiny TRL + PEFT run with Qwen3's real template: TRL gets our input_ids/labels, the
    tokenizer is saved with the model's own template, and the manifest counts each mask source."""
    import json

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.config import TrainConfig
    from trainer.tiny import build_tiny_model
    from trainer.train import run

    path = build_tiny_model(tmp_path / "m")
    text = (trl_template_dir() / "qwen3.jinja").read_text(encoding="utf-8")
    tok = AutoTokenizer.from_pretrained(path)
    tok.add_special_tokens({"additional_special_tokens": sorted(set(TOKEN_RE.findall(text)))})
    tok.chat_template = text
    model = AutoModelForCausalLM.from_pretrained(path)
    model.resize_token_embeddings(len(tok))
    model.save_pretrained(path)
    tok.save_pretrained(path)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in SCENARIOS.values()) * 2,
                    encoding="utf-8")
    s = run(TrainConfig(data=[str(data)], model=str(path), out=str(tmp_path / "out"), eval_ratio=0, max_steps=2,
                        batch_size=2, grad_accum=1, logging_steps=1, lora_r=4, lora_alpha=4))
    assert s["global_step"] == 2 and s["counts"]["train"] == 6 and s["counts"]["rejected"] == 0
    assert s["counts"]["mask_sources"] == {"incremental": 6}
    assert "mask: incremental rendering" in " ".join(s["template"])
    assert AutoTokenizer.from_pretrained(tmp_path / "out").chat_template == text
