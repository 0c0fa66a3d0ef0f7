"""The record model: ids, views, canonical dict round trip, copies."""

from __future__ import annotations

from curator.record import Conversation, Message, content_id


def _conv(**kw) -> Conversation:
    return Conversation(messages=[Message("system", "Be brief."), Message("user", "2+2?"),
                                  Message("assistant", "4", reasoning="2 plus 2 is 4."),
                                  Message("user", "and 3+3?"), Message("assistant", "6")], **kw)


def test_input_id_is_kept_and_missing_id_is_a_stable_content_hash():
    assert _conv(id="row-7").id == "row-7"
    a, b = _conv(), _conv()
    assert a.id == b.id and len(a.id) == 24 and a.meta["id_hashed"] is True
    assert a.id == content_id(a.messages)
    # Any change to content, reasoning or tools changes the id.
    c = _conv()
    c.messages[2].reasoning = "different"
    assert content_id(c.messages) != a.id
    assert content_id(a.messages, [{"type": "function"}]) != a.id


def test_views_used_by_later_stages():
    c = _conv()
    assert [m.content for m in c.prompt_messages()] == ["Be brief.", "2+2?", "4", "and 3+3?"]
    assert c.last("assistant").content == "6"
    assert c.last("tool") is None
    assert c.prompt_text() == "2+2?\nand 3+3?"
    assert c.answer_text() == "4\n6"
    assert list(c.texts("system")) == ["Be brief."]


def test_canonical_dict_round_trip_keeps_every_field():
    m = Message("assistant", "", tool_calls=[{"id": "c1", "type": "function",
                                                "function": {"name": "f", "arguments": "{}"}}], weight=0.0)
    t = Message("tool", '{"ok": true}', tool_call_id="c1", name="f")
    c = Conversation([Message("user", "go"), m, t, Message("assistant", "done", reasoning="r")], id="x",
                     tools=[{"type": "function", "function": {"name": "f"}}], meta={"source": "s"})
    d = c.to_dict()
    assert d["messages"][1] == {"role": "assistant", "content": "", "tool_calls": m.tool_calls, "weight": 0.0}
    assert d["messages"][3]["reasoning_content"] == "r"
    back = Conversation.from_dict(d)
    assert back == c
    assert back.to_dict() == d


def test_copy_is_independent_and_lineage_appends():
    c = _conv(id="a")
    c.add_lineage("convert")
    d = c.copy()
    d.messages[1].content = "changed"
    d.add_lineage("filter")
    assert c.messages[1].content == "2+2?"
    assert c.meta["lineage"] == ["convert"] and d.meta["lineage"] == ["convert", "filter"]
