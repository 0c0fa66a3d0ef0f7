"""Loss masks, templates and reasoning rendering on the tiny model's real tokenizer (no training)."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from curator.errors import RowError, UsageError  # noqa: E402
from curator.record import Conversation, Message  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from trainer.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


@pytest.fixture
def tok(tiny):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny)


def trained_text(tok, ex) -> list[str]:
    """The decoded trained spans, in order."""
    from trainer.preview import segments

    return [t for t, on in segments(ex["input_ids"], ex["labels"], tok) if on]


def example(tok, conv, **kw):
    from trainer.chat_rows import to_messages
    from trainer.masking import build_example, prepare_template

    info = prepare_template(tok)
    reasoning = kw.pop("reasoning", "keep")
    return build_example(to_messages(conv, reasoning=reasoning, reasoning_key=info.reasoning_key,
                                     arguments=info.arguments), tok, info, **kw), info


MULTI = Conversation([Message("system", "be brief"), Message("user", "first question"),
                      Message("assistant", "first answer"), Message("user", "second question"),
                      Message("assistant", "second answer")])


def test_prompt_is_masked_and_assistant_plus_eot_trained(tok):
    ex, info = example(tok, MULTI)
    assert trained_text(tok, ex) == ["first answer<|im_end|>", "second answer<|im_end|>"]
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    # every trained run ends with the end-of-turn token: the model learns to stop
    labels = ex["labels"]
    ends = [i for i in range(len(labels)) if labels[i] != -100 and (i + 1 == len(labels) or labels[i + 1] == -100)]
    assert [ex["input_ids"][i] for i in ends] == [im_end, im_end]
    # the prompt (system, user turns, assistant headers) is -100
    masked = tok.decode([t for t, lab in zip(ex["input_ids"], labels) if lab == -100])
    assert "first question" in masked and "be brief" in masked and "assistant\n" in masked
    assert "answer" not in masked.replace("<|im_start|>assistant", "")


def test_weight_zero_turn_is_masked(tok):
    conv = MULTI.copy()
    conv.messages[2].weight = 0
    ex, _ = example(tok, conv)
    assert trained_text(tok, ex) == ["second answer<|im_end|>"]


def test_train_on_last(tok):
    ex, _ = example(tok, MULTI, train_on="last")
    assert trained_text(tok, ex) == ["second answer<|im_end|>"]


def test_nothing_to_train_and_too_long_are_row_errors(tok):
    conv = MULTI.copy()
    conv.messages[4].weight = 0
    with pytest.raises(RowError) as e:
        example(tok, conv, train_on="last")
    assert e.value.code == "nothing_to_train"
    with pytest.raises(RowError) as e:
        example(tok, MULTI, max_length=5)
    assert e.value.code == "too_long" and "max_length" in e.value.message


def test_reasoning_keep_renders_think_tags_inside_the_trained_turn(tok):
    conv = Conversation([Message("user", "2+2?"), Message("assistant", "4", reasoning="two plus two is four")])
    ex, info = example(tok, conv, reasoning="keep")
    assert info.reasoning == "native" and info.mask_source == "markers" and ex["mask_source"] == "markers"
    assert "<|im_start|>assistant\n<think>" in tok.decode(ex["input_ids"])
    assert trained_text(tok, ex) == ["<think>\ntwo plus two is four\n</think>\n\n4<|im_end|>"]


def test_reasoning_drop_trains_the_answer_only(tok):
    conv = Conversation([Message("user", "2+2?"), Message("assistant", "4", reasoning="two plus two is four")])
    ex, _ = example(tok, conv, reasoning="drop")
    assert "<think>" not in tok.decode(ex["input_ids"])
    assert trained_text(tok, ex) == ["4<|im_end|>"]


def test_template_without_markers_is_kept_and_masked_by_incremental_rendering(tok):
    from trainer.masking import prepare_template

    # a ChatML template without {% generation %} that ignores reasoning_content and is not one TRL ships
    own = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
           "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok.chat_template = own
    info = prepare_template(tok)
    assert tok.chat_template == own  # never replaced
    assert (info.source, info.mask_source, info.reasoning, info.eot_tokens) == ("model", "incremental", "inline", ["<|im_end|>"])
    ex, _ = example(tok, MULTI)
    assert ex["mask_source"] == "incremental"
    assert tok.decode(ex["input_ids"]) == tok.apply_chat_template(MULTI.to_dict()["messages"], tokenize=False)
    assert trained_text(tok, ex) == ["first answer<|im_end|>", "second answer<|im_end|>"]
    assert any("incremental rendering" in line for line in info.lines())


def test_template_without_an_end_of_turn_token_is_refused(tok):
    from trainer.masking import prepare_template

    tok.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    with pytest.raises(UsageError, match="never learn to stop"):
        prepare_template(tok)


def test_eot_outside_markers_is_fixed(tok):
    from trainer.masking import prepare_template

    # markers around the content only; <|im_end|> outside — the classic "never learns to stop" template
    tok.chat_template = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' }}"
        "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}{% endgeneration %}"
        "{% else %}{{ m['content'] }}{% endif %}{{ '<|im_end|>\n' }}{% endfor %}")
    info = prepare_template(tok)
    assert info.source == "model" and info.eos_fix and info.reasoning == "inline" and info.mask_source == "markers"
    ex, _ = example(tok, MULTI)
    assert trained_text(tok, ex) == ["first answer<|im_end|>", "second answer<|im_end|>"]
    # this template ignores reasoning_content: the reasoning is written as tags into the answer instead
    conv = Conversation([Message("user", "q"), Message("assistant", "4", reasoning="think")])
    ex, _ = example(tok, conv)
    assert trained_text(tok, ex) == ["<think>\nthink\n</think>\n\n4<|im_end|>"]


def test_eval_split_is_deterministic_and_never_empty():
    from trainer.data import eval_indices

    keys = [f"id{i}" for i in range(10)]
    a = eval_indices(keys, 0.05, seed=1)
    assert a == eval_indices(list(reversed(keys)), 0.05, seed=1) or len(a) == 1
    assert len(a) == 1 and eval_indices(keys, 0.0, seed=1) == set()
    assert len(eval_indices(keys, 0.3, seed=1)) == 3


def test_config_layers_and_errors(tmp_path):
    from trainer.config import build_config, field_help, load_yaml, parse_overrides

    y = tmp_path / "t.yaml"
    y.write_text("lora_r: 16\npacking: true\nmethod: full\n")
    cfg = build_config(load_yaml(y), {"lora_r": "32"}, parse_overrides(["batch-size=2"])).resolved()
    assert (cfg.lora_r, cfg.packing, cfg.batch_size, cfg.learning_rate) == (32, True, 2, 1e-5)
    assert build_config({}).resolved().learning_rate == 2e-4
    assert "r = alpha" in field_help()["lora_alpha"]
    with pytest.raises(UsageError, match="unknown config key 'lora_rank'"):
        build_config({"lora_rank": 4})
    with pytest.raises(UsageError, match="--train-on 'first': choose all or last"):
        build_config({"train_on": "first"}).resolved()
    y.write_text("!!python/object/apply:os.system ['echo hi']")
    with pytest.raises(UsageError, match="invalid YAML"):
        load_yaml(y)


def test_tool_call_arguments_reach_the_template_as_objects_and_tools_in_openai_shape():
    from trainer.chat_rows import template_tool_calls, template_tools, to_messages

    calls = [{"id": "c0", "type": "function", "function": {"name": "f", "arguments": '{"city": "北京", "n": 2}'}},
             {"id": "c1", "type": "function", "function": {"name": "g", "arguments": "not json"}}]
    conv = Conversation([Message("user", "q"), Message("assistant", "", tool_calls=calls), Message("tool", "ok"),
                         Message("assistant", "done")], tools=[{"name": "f", "parameters": {"type": "object"}}])
    row = to_messages(conv)
    got = row["messages"][1]["tool_calls"]
    assert got[0]["function"]["arguments"] == {"city": "北京", "n": 2}
    assert got[1]["function"]["arguments"] == "not json"  # not JSON: passed as written, never guessed
    assert conv.messages[1].tool_calls[0]["function"]["arguments"] == '{"city": "北京", "n": 2}'  # record untouched
    assert row["tools"] == [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert template_tools(row["tools"]) == row["tools"]
    assert template_tool_calls(got, "string")[0]["function"]["arguments"] == '{"city": "北京", "n": 2}'


def test_reasoning_goes_under_the_key_the_template_reads():
    from trainer.chat_rows import to_messages

    conv = Conversation([Message("user", "q"), Message("assistant", "4", reasoning="r")])
    assert to_messages(conv, reasoning_key="thinking")["messages"][1]["thinking"] == "r"
    inline = to_messages(conv, reasoning_key=None)["messages"][1]
    assert inline["content"] == "<think>\nr\n</think>\n\n4" and "reasoning_content" not in inline
    assert to_messages(conv, reasoning="drop")["messages"][1] == {"role": "assistant", "content": "4"}
