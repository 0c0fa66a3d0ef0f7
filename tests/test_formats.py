"""Every format both ways, with round-trip property tests (hypothesis)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.errors import RowError
from curator.formats import (
    DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions, detect_format, get_format,
)
from curator.record import Conversation, Message

alpaca, sharegpt, messages = get_format("alpaca"), get_format("sharegpt"), get_format("messages")
pc, turns = get_format("prompt_completion"), get_format("turns")

# Any text without "<" (which could spell a think tag) — Chinese, emoji, newlines included.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<"), max_size=40)
NONEMPTY = TEXT.filter(lambda s: s != "")
# Reasoning/answers for think-tag tests: tags are joined with newlines, so edges must not be newlines.
LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="<"),
               min_size=1, max_size=30).filter(lambda s: s.strip() == s and s)


def via_canonical(conv: Conversation) -> Conversation:
    """Write canonical JSONL text and read it back, as a file round trip would."""
    return messages.parse(orjson.loads(orjson.dumps(messages.render(conv, DEFAULT_WRITE))), DEFAULT_READ)


@st.composite
def alpaca_rows(draw):
    row = {"instruction": draw(TEXT), "input": draw(TEXT), "output": draw(TEXT)}
    if draw(st.booleans()):
        row["system"] = draw(NONEMPTY)
    history = draw(st.lists(st.tuples(TEXT, TEXT).map(list), max_size=3))
    if history:
        row["history"] = history
    if draw(st.booleans()):
        row = {"id": draw(st.text("abc123", min_size=1, max_size=8)), **row}
    return row


@settings(max_examples=200, deadline=None)
@given(alpaca_rows())
def test_alpaca_to_messages_to_alpaca_gives_back_the_same_row(row):
    back = alpaca.render(via_canonical(alpaca.parse(row, DEFAULT_READ)), DEFAULT_WRITE)
    assert back == row


@st.composite
def sharegpt_multiturn(draw):
    n = draw(st.integers(1, 4))
    conv = []
    for _ in range(n):
        conv += [{"from": "human", "value": draw(NONEMPTY)}, {"from": "gpt", "value": draw(NONEMPTY)}]
    row = {"conversations": conv}
    if draw(st.booleans()):
        row["system"] = draw(NONEMPTY)
    return row


@settings(max_examples=100, deadline=None)
@given(sharegpt_multiturn())
def test_multiturn_sharegpt_to_alpaca_uses_history_and_comes_back(row):
    a = alpaca.render(sharegpt.parse(row, DEFAULT_READ), DEFAULT_WRITE)
    turns_ = [t["value"] for t in row["conversations"]]
    assert a["instruction"] == turns_[-2] and a["output"] == turns_[-1] and a["input"] == ""
    pairs = [turns_[i:i + 2] for i in range(0, len(turns_) - 2, 2)]
    assert a.get("history", []) == pairs
    assert a.get("system") == row.get("system")
    assert sharegpt.render(alpaca.parse(a, DEFAULT_READ), DEFAULT_WRITE) == row


def test_alpaca_input_joins_the_instruction_like_llama_factory():
    c = alpaca.parse({"instruction": "Translate.", "input": "Bonjour", "output": "Hello"}, DEFAULT_READ)
    assert [(m.role, m.content) for m in c.messages] == [("user", "Translate.\nBonjour"), ("assistant", "Hello")]
    assert c.meta["alpaca_input"] == "Bonjour"


def test_alpaca_self_instruct_instances_and_unknown_columns_survive():
    row = {"id": "u1", "instruction": "Sort.", "instances": [{"input": "b a", "output": "a b"}], "motivation_app": "x"}
    c = alpaca.parse(row, DEFAULT_READ)
    assert c.id == "u1" and c.messages[-1].content == "a b" and c.meta["extra"] == {"motivation_app": "x"}
    with pytest.raises(RowError) as e:
        alpaca.parse({"instruction": "x", "instances": [{}, {}]}, DEFAULT_READ)
    assert e.value.code == "bad_structure"


def test_tool_calls_into_alpaca_are_rejected_as_unrepresentable():
    row = {"messages": [{"role": "user", "content": "weather?"},
                        {"role": "assistant", "content": "", "tool_calls": [
                            {"id": "c", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                        {"role": "tool", "tool_call_id": "c", "content": "3C"},
                        {"role": "assistant", "content": "3 degrees."}]}
    with pytest.raises(RowError) as e:
        alpaca.render(messages.parse(row, DEFAULT_READ), DEFAULT_WRITE)
    assert e.value.code == "unrepresentable" and "tool calls" in e.value.message
    # ...and loss weights that Alpaca cannot hold are refused the same way.
    w = messages.parse({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "weight": 0},
                                     {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]},
                       DEFAULT_READ)
    with pytest.raises(RowError, match="loss weights"):
        alpaca.render(w, DEFAULT_WRITE)


GLAIVE = {
    "conversations": [
        {"from": "human", "value": "Convert 100 USD to EUR."},
        {"from": "function_call", "value": '{"name": "convert", "arguments": {"amount": 100, "to": "EUR"}}'},
        {"from": "observation", "value": '{"result": 92.5}'},
        {"from": "gpt", "value": "100 USD is 92.50 EUR."},
    ],
    "tools": '[{"name": "convert", "description": "Convert money", "parameters": {"type": "object"}}]',
}


def test_glaive_tool_call_sharegpt_maps_to_openai_tool_calls_and_back():
    c = sharegpt.parse(GLAIVE, DEFAULT_READ)
    call = c.messages[1]
    assert call.role == "assistant" and call.content == ""
    assert call.tool_calls == [{"id": "call_0", "type": "function",
                                "function": {"name": "convert", "arguments": '{"amount":100,"to":"EUR"}'}}]
    assert c.messages[2].role == "tool" and c.messages[2].tool_call_id == "call_0"
    assert c.tools == [{"name": "convert", "description": "Convert money", "parameters": {"type": "object"}}]
    assert sharegpt.render(via_canonical(c), DEFAULT_WRITE) == GLAIVE
    # An empty tools column survives too (glaive rows without tools carry "[]").
    plain = {"conversations": GLAIVE["conversations"][:1] + [{"from": "gpt", "value": "Sure."}], "tools": "[]"}
    assert sharegpt.render(via_canonical(sharegpt.parse(plain, DEFAULT_READ)), DEFAULT_WRITE) == plain


DPO = {"conversations": [{"from": "system", "value": "Be kind."}, {"from": "human", "value": "Hi?"}],
       "chosen": {"from": "gpt", "value": "Hello, how can I help?"},
       "rejected": {"from": "gpt", "value": "What."}}


def test_dpo_chosen_rejected_round_trip():
    c = sharegpt.parse(DPO, DEFAULT_READ)
    assert c.messages[-1].content == "Hello, how can I help?"
    assert c.meta["rejected"] == {"role": "assistant", "content": "What."}
    assert sharegpt.render(via_canonical(c), DEFAULT_WRITE) == DPO


def test_fastchat_ids_and_role_content_turns():
    row = {"id": "identity_0", "conversations": [{"from": "human", "value": "Who are you?"},
                                                  {"from": "gpt", "value": "Vicuna."}]}
    c = sharegpt.parse(row, DEFAULT_READ)
    assert c.id == "identity_0" and "id_hashed" not in c.meta
    assert sharegpt.render(c, DEFAULT_WRITE) == row
    alt = sharegpt.parse({"conversations": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
                         DEFAULT_READ)
    assert [m.role for m in alt.messages] == ["user", "assistant"]


def test_messages_content_parts_loss_weight_and_weight():
    row = {"messages": [{"role": "system", "content": [{"type": "text", "value": "Sys."}]},
                        {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "value": "there"}]},
                        {"role": "assistant", "content": "Old answer.", "loss_weight": 0.0},
                        {"role": "user", "content": "Again?"},
                        {"role": "assistant", "content": "New answer.", "weight": 1}]}
    c = messages.parse(row, DEFAULT_READ)
    assert [m.content for m in c.messages][:2] == ["Sys.", "Hi there"]
    assert [m.weight for m in c.messages] == [None, None, 0.0, None, 1.0]
    out = messages.render(c, DEFAULT_WRITE)["messages"]
    assert out[2] == {"role": "assistant", "content": "Old answer.", "weight": 0.0}
    with pytest.raises(RowError) as e:
        messages.parse({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]}, DEFAULT_READ)
    assert e.value.code == "non_text_content"


@settings(max_examples=60, deadline=None)
@given(LINE, LINE, LINE)
def test_think_tags_and_reasoning_content_round_trip(question, reasoning, answer):
    ark = {"messages": [{"role": "user", "content": question},
                        {"role": "assistant", "reasoning_content": reasoning, "content": answer}]}
    c = messages.parse(ark, DEFAULT_READ)
    field = messages.render(c, WriteOptions(reasoning="field"))
    assert field["messages"][1] == {"role": "assistant", "content": answer, "reasoning_content": reasoning}
    tags = messages.render(c, WriteOptions(reasoning="tags"))["messages"][1]
    assert tags == {"role": "assistant", "content": f"<think>\n{reasoning}\n</think>\n\n{answer}"}
    dropped = messages.render(c, WriteOptions(reasoning="drop"))["messages"][1]
    assert dropped == {"role": "assistant", "content": answer}
    # tags -> reasoning_content: the R1 form reads back into the same record.
    r1 = messages.parse({"messages": [ark["messages"][0], tags]}, DEFAULT_READ)
    assert r1.messages[1].reasoning == reasoning and r1.messages[1].content == answer
    # Formats without a reasoning field write tags by default and read them back.
    sg = sharegpt.render(c, DEFAULT_WRITE)
    assert sg["conversations"][1]["value"] == tags["content"]
    assert sharegpt.parse(sg, DEFAULT_READ).messages[1].reasoning == reasoning
    p = pc.render(c, DEFAULT_WRITE)
    assert p == {"prompt": question, "completion": tags["content"]}
    assert pc.parse(p, DEFAULT_READ).messages[1].reasoning == reasoning


def test_custom_think_tags_and_unterminated_think():
    opts = ReadOptions(think_open="<reasoning>", think_close="</reasoning>")
    c = alpaca.parse({"instruction": "q", "output": "<reasoning>\nr\n</reasoning>\n\na"}, opts)
    assert (c.messages[1].reasoning, c.messages[1].content) == ("r", "a")
    with pytest.raises(RowError) as e:
        alpaca.parse({"instruction": "q", "output": "<think>\nhalf a thought"}, DEFAULT_READ)
    assert e.value.code == "unterminated_think"
    # A completion that starts mid-thought (the template opened the tag) still splits.
    c = alpaca.parse({"instruction": "q", "output": "thinking\n</think>\n\nanswer"}, DEFAULT_READ)
    assert (c.messages[1].reasoning, c.messages[1].content) == ("thinking", "answer")


def test_prompt_completion_both_forms():
    s = {"prompt": "Capital of Japan?", "completion": "Tokyo."}
    assert pc.render(pc.parse(s, DEFAULT_READ), DEFAULT_WRITE) == s
    conv = {"prompt": [{"role": "system", "content": "Brief."}, {"role": "user", "content": "Legs of a spider?"}],
            "completion": [{"role": "assistant", "content": "Eight."}]}
    c = pc.parse(conv, DEFAULT_READ)
    assert [m.role for m in c.messages] == ["system", "user", "assistant"]
    assert pc.render(c, DEFAULT_WRITE) == conv
    with pytest.raises(RowError, match="no assistant turn"):
        pc.render(Conversation([Message("user", "q")]), DEFAULT_WRITE)


def test_turns_prompts_only():
    row = {"question_id": 81, "category": "writing", "turns": ["Write a poem.", "Make it shorter."]}
    c = turns.parse(row, DEFAULT_READ)
    assert c.id == "81" and [m.content for m in c.messages] == row["turns"]
    assert turns.render(c, DEFAULT_WRITE) == {"id": "81", "turns": row["turns"], "category": "writing"}
    with pytest.raises(RowError) as e:
        turns.render(alpaca.parse({"instruction": "q", "output": "a"}, DEFAULT_READ), DEFAULT_WRITE)
    assert e.value.code == "unrepresentable"


def test_detection_and_mapping():
    assert detect_format([{"messages": []}]).NAME == "messages"
    assert detect_format([{"conversations": []}]).NAME == "sharegpt"
    assert detect_format([{"instruction": "a", "output": "b"}]).NAME == "alpaca"
    assert detect_format([{"prompt": "a", "completion": "b"}]).NAME == "prompt_completion"
    assert detect_format([{"turns": ["a"]}]).NAME == "turns"
    assert detect_format([{"question": "a"}]) is None
    assert detect_format([{"question": "a", "answer": "b"}], {"instruction": "question"}).NAME == "alpaca"
    opts = ReadOptions(mapping=(("instruction", "question"), ("output", "answer"), ("tag.user", "customer")))
    c = alpaca.parse({"question": "Why?", "answer": "Because."}, opts)
    assert [(m.role, m.content) for m in c.messages] == [("user", "Why?"), ("assistant", "Because.")]
    s = sharegpt.parse({"conversations": [{"from": "customer", "value": "hi"}, {"from": "gpt", "value": "yo"}]}, opts)
    assert s.messages[0].role == "user"
    assert get_format("openai") is messages and get_format("FastChat") is sharegpt


def test_unknown_tag_suggests_the_nearest():
    with pytest.raises(RowError) as e:
        sharegpt.parse({"conversations": [{"from": "hummany", "value": "hi"}]}, DEFAULT_READ)
    assert e.value.code == "unknown_role" and e.value.fix == "did you mean 'human'?"
    with pytest.raises(RowError) as e:
        messages.parse({"messages": [{"role": "asistant", "content": "hi"}]}, DEFAULT_READ)
    assert e.value.fix == "did you mean 'assistant'?"
