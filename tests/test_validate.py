"""Every validation code on sample_data/bad, with the exact message users see."""

from __future__ import annotations

import pytest

from curator.io import read_records
from curator.record import Conversation, Message
from curator.rejects import RejectSink
from curator.validate import CODES, check, first_problem, line_is_clean

BAD_ROWS = [
    (1, "unknown_role", "unknown role 'asistant' in messages[1] — did you mean 'assistant'?"),
    (2, "empty_content", "messages[1] (assistant) is empty — fill it in or drop the row"),
    (3, "non_text_content", "messages[0].content is a dict, not text — content must be a string (or a list of text parts)"),
    (4, "turn_order", "messages[1]: two user turns in a row — merge the two user turns or add the missing answer"),
    (5, "turn_order", "messages[0]: the conversation starts with an assistant turn — add the user turn it answers, "
                      "or drop the row"),
    (6, "tool_without_call", "messages[1] is a tool result with no tool call before it — add the assistant tool call "
                             "(function_call) it answers"),
    (7, "no_assistant", "no assistant turn: nothing to train on — add the answer, or run `curate distill` to generate it"),
    (8, "system_not_first", "messages[2] is a system message after the first turn — move the system prompt to the "
                            "start or merge it"),
    (9, "placeholder", "messages[1].content has an unfilled placeholder {{name}} — fill the template before training, "
                       "or drop the row"),
    (10, "bad_characters", "messages[0].content contains control character U+0007 at offset 2 — re-decode the source "
                           "with the right --encoding or strip the character"),
    (11, "invalid_json", "invalid JSON at column 92: unexpected end of data — fix the JSON syntax on this line"),
    (12, "unterminated_think", "messages[1].content opens <think> but never closes it (truncated reasoning?) — close the "
                               "block with </think>, or regenerate the answer"),
    (13, "bad_structure", 'row is a list, not a JSON object — each row must be an object such as {"messages": [...]}'),
]
BAD_SHAREGPT = [
    (1, "unknown_role", "unknown tag 'hummany' in conversations[0] — did you mean 'human'?"),
    (2, "bad_structure", "conversations[1] is a function_call whose value is not JSON (unexpected character, expected a "
                         "JSON value: line 1 column 1 (char 0)) — write {\"name\": ..., \"arguments\": {...}}"),
    (3, "missing_field", "no 'conversations' list — ShareGPT rows need conversations: [{from, value}, ...]"),
]


def _rejects(path, **kw):
    sink = RejectSink(None)
    good = list(read_records(path, rejects=sink, **kw))
    return good, sink


@pytest.mark.parametrize("name,expected", [("bad_rows.jsonl", BAD_ROWS), ("bad_sharegpt.jsonl", BAD_SHAREGPT)])
def test_every_bad_row_is_rejected_with_its_exact_message(sample, name, expected):
    path = sample / "bad" / name
    good, sink = _rejects(path)
    assert good == []
    got = [(e["line"], e["reason"], e["message"]) for ex in sink.examples.values() for e in ex]
    assert sorted(got) == [(n, code, f"{path}:{n}: {msg}") for n, code, msg in expected]
    assert all(e["source"] == str(path) for ex in sink.examples.values() for e in ex)


def test_rejects_file_keeps_the_original_row(tmp_path, sample):
    sink = RejectSink(tmp_path / "r.jsonl", stage="validate")
    list(read_records(sample / "bad" / "bad_rows.jsonl", rejects=sink))
    sink.close()
    from curator.rejects import read_rejects

    rows = read_rejects(tmp_path / "r.jsonl")
    assert len(rows) == 13 and rows[0]["stage"] == "validate"
    assert rows[0]["record"]["messages"][1]["role"] == "asistant"
    assert rows[10]["record"].startswith('{"messages": [{"role": "user", "content": "hi"}')  # undecodable: text kept
    assert rows[0]["field"] == "messages[1].role"


def test_allow_lets_a_code_through(sample):
    good, sink = _rejects(sample / "prompts.jsonl", allow={"no_assistant"})
    assert len(good) == 4 and len(sink) == 0
    good, sink = _rejects(sample / "prompts.jsonl")
    assert good == [] and sink.counts == {"no_assistant": 4}


def _c(*turns, **kw) -> Conversation:
    return Conversation([Message(r, t, **kw) for r, t in turns])


def test_check_lists_every_problem_in_order():
    c = _c(("assistant", "hi {{user}}"), ("assistant", "é\ufffd"), ("system", "late"))
    codes = [p.code for p in check(c)]
    assert codes == ["turn_order", "placeholder", "turn_order", "bad_characters", "system_not_first"]
    assert first_problem(c, allow={"turn_order"}).code == "placeholder"


def test_mojibake_and_replacement_character_are_explained():
    (p,) = check(_c(("user", "q"), ("assistant", "Rose â\x80\x94 Jack")))
    assert p.code == "bad_characters" and "U+0080 (mojibake" in p.message and "offset 6" in p.message
    (p,) = check(_c(("user", "q"), ("assistant", "a\ufffd")))
    assert "U+FFFD (replacement character" in p.message


def test_placeholders_in_code_fences_and_single_braces_are_fine():
    assert check(_c(("user", "Jinja?"), ("assistant", "Use ```{{ name }}``` in a template."))) == []
    assert check(_c(("user", "json?"), ("assistant", '{"a": {"b": 1}}'))) == []
    (p,) = check(_c(("user", "q"), ("assistant", "by {{ author }}")))
    assert p.message == "messages[1].content has an unfilled placeholder {{ author }}"


def test_tool_turns_and_reasoning_only_answers():
    call = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    ok = Conversation([Message("user", "q"), Message("assistant", "", tool_calls=call),
                       Message("tool", "r", tool_call_id="c1"), Message("assistant", "done")])
    assert check(ok) == []
    missing = Conversation([Message("user", "q"), Message("assistant", "", tool_calls=call), Message("user", "?")])
    p, last = check(missing)
    assert p.code == "turn_order" and p.message == "messages[2]: a tool call before it has no tool result"
    assert last.code == "no_final_answer"  # and it ends on a user turn with nothing to train on
    # An answer that is all reasoning (content empty) is not empty.
    assert check(Conversation([Message("user", "q"), Message("assistant", "", reasoning="r")])) == []


def test_line_screen_never_hides_a_bad_character():
    assert line_is_clean(b'{"a": "plain text\\n with escapes \\" and \\\\ ok"}')
    assert line_is_clean('{"a": "中文"}'.encode())
    for bad in (b'{"a": "x\\u0007"}', b'{"a": "x\\b"}', b'{"a": "x\\f"}', b'{"a": "x\x7f"}',
                '{"a": "x\u0080"}'.encode(), '{"a": "x\ufffd"}'.encode()):
        assert not line_is_clean(bad)


def test_codes_table_is_complete():
    assert set(CODES) >= {"invalid_json", "encoding", "unknown_role", "empty_content", "non_text_content", "turn_order",
                          "tool_without_call", "no_assistant", "system_not_first", "placeholder", "bad_characters",
                          "unrepresentable", "unterminated_think", "bad_structure", "missing_field"}
