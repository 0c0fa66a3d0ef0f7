"""Each filter on hand-made keep/drop cases, English and Chinese."""

from __future__ import annotations

import pytest

from curator.errors import UsageError
from curator.filters import Drop, build
from curator.record import Conversation, Message


def conv(user: str, answer: str, reasoning: str | None = None, meta: dict | None = None, system: str | None = None):
    msgs = ([Message("system", system)] if system else []) + [Message("user", user),
                                                                Message("assistant", answer, reasoning=reasoning)]
    return Conversation(msgs, meta=dict(meta or {}))


def verdict(name: str, c: Conversation, **params):
    return build(name, params).filter(c)


def dropped(name: str, c: Conversation, **params) -> str | None:
    v = verdict(name, c, **params)
    return v.code if isinstance(v, Drop) else None


# -- length -----------------------------------------------------------------------------------
def test_length_defaults_keep_short_sft_answers():
    for ans in ("4", "Yes.", "是。", "3"):
        assert dropped("length", conv("2+2?", ans)) is None


def test_length_bounds_name_value_and_threshold():
    v = verdict("length", conv("写诗", "春眠不觉晓"), max_chars=3)
    assert isinstance(v, Drop) and v.code == "too_long"
    assert "5 characters" in v.message and "max_chars=3" in v.message
    assert dropped("length", conv("Hi", "Hello there"), min_chars=5) == "too_short"  # user "Hi" is 2 chars
    assert dropped("length", conv("Hi", "Hello there"), min_chars=5, roles=["assistant"]) is None
    assert dropped("length", conv("Hi", "Hello"), max_conv_chars=6) == "too_long"
    assert dropped("length", conv("Hi", "Hello"), min_conv_chars=7) is None


def test_length_tokens_with_real_tokenizer(tmp_path):
    from trainer.tiny import build_tiny_model

    path = build_tiny_model(tmp_path / "tiny")
    c = conv("hello", "hello " * 40)
    assert dropped("length", c, tokenizer=str(path), max_tokens=10, roles=["assistant"]) == "too_long"
    assert dropped("length", c, tokenizer=str(path), max_tokens=10_000) is None
    with pytest.raises(UsageError, match="tokenizer"):
        build("length", {"max_tokens": 5})


# -- text hygiene -----------------------------------------------------------------------------
def test_placeholder():
    assert dropped("placeholder", conv("Who are you?", "I am {{name}}, made by {{author}}.")) == "placeholder"
    assert dropped("placeholder", conv("你是谁？", "我是【姓名】助手")) == "placeholder"
    assert dropped("placeholder", conv("Write a Jinja loop", "```\n{{ item }}\n```")) is None
    assert dropped("placeholder", conv("Who?", "I am Qwen.")) is None


def test_bad_text():
    assert dropped("bad_text", conv("Hi", "It\u2019s fine")) is None
    assert dropped("bad_text", conv("Hi", "Itâ€™s broken")) == "mojibake"
    assert dropped("bad_text", conv("你好", "é”™è¯¯")) == "mojibake"
    assert dropped("bad_text", conv("你好", "错\ufffd误")) == "replacement_char"
    assert dropped("bad_text", conv("Hi", "bell\x07")) == "control_char"
    assert dropped("bad_text", conv("Café", "Résumé, naïve, 中文")) is None
    assert dropped("bad_text", conv("Hi", "x\ufffd"), replacement_char=False) is None


def test_code_fence():
    assert dropped("code_fence", conv("code", "```python\nprint(1)\n```")) is None
    assert dropped("code_fence", conv("code", "```python\nprint(1)\n")) == "unbalanced_fence"
    assert dropped("code_fence", conv("代码", "示例：\n```js\nlet a = 1;")) == "unbalanced_fence"


# -- content ----------------------------------------------------------------------------------
def test_refusal_en_zh_and_tag_mode():
    assert dropped("refusal", conv("Tell me", "As an AI language model, I cannot do that.")) == "refusal"
    assert dropped("refusal", conv("Tell me", "I\u2019m sorry, but I can\u2019t help with that.")) == "refusal"
    assert dropped("refusal", conv("告诉我", "作为一个人工智能，我没有个人观点。")) == "refusal"
    assert dropped("refusal", conv("告诉我", "我无法访问互联网。")) == "refusal"
    assert dropped("refusal", conv("Tell me", "Paris is the capital of France.")) is None
    assert dropped("refusal", conv("告诉我", "北京是中国的首都。")) is None
    long_ok = "A" * 400 + " as an AI language model"
    assert dropped("refusal", conv("x", long_ok)) is None            # past within_chars
    assert dropped("refusal", conv("x", long_ok), within_chars=0) == "refusal"
    assert dropped("refusal", conv("x", "Sure thing"), phrases=["sure thing"]) == "refusal"
    c = conv("告诉我", "我无法回答。")
    assert verdict("refusal", c, action="tag") is True and c.meta["tags"] == ["refusal"]


def test_repetition():
    loop = "\n".join(["The answer is that we need to think again."] * 8)
    assert dropped("repetition", conv("q", loop)) == "repeated_lines"
    words = ("I think the answer is five because " * 20).strip()
    assert dropped("repetition", conv("q", words)) == "repeated_ngrams"
    zh = "我们再想一想这个问题的答案是什么" * 10
    assert dropped("repetition", conv("问题", zh)) == "repeated_ngrams"
    assert dropped("repetition", conv("q", "4")) is None
    essay = " ".join(f"Sentence number {i} talks about topic {i * 7} in its own words." for i in range(30))
    assert dropped("repetition", conv("q", essay)) is None
    code = "```\n" + "\n".join(["    x = x + 1  # step"] * 20) + "\n```\nDone."
    assert dropped("repetition", conv("q", code)) is None
    assert dropped("repetition", conv("q", "ok", reasoning=loop)) == "repeated_lines"
    assert dropped("repetition", conv("q", "ok", reasoning=loop), include_reasoning=False) is None


# -- language ---------------------------------------------------------------------------------
def test_language():
    en = conv("Generate 5 multiplication problems for a third grader.", "1. 3 x 4\n2. 5 x 6\n3. 7 x 2\n4. 8 x 3\n5. 9 x 9")
    zh = conv("生成五道适合三年级学生的乘法题。", "1. 3 × 4\n2. 5 × 6\n3. 7 × 2\n4. 8 × 3\n5. 9 × 9")
    fr = conv("Écrivez un court poème sur la mer et le vent du soir.", "La mer chante doucement sous le vent du soir.")
    assert dropped("language", en) is None
    assert dropped("language", zh) is None
    assert dropped("language", fr) == "wrong_language"
    assert dropped("language", zh, allowed=["en"]) == "wrong_language"
    assert dropped("language", en, allowed=["zh"], roles=["assistant"]) is None  # numbers only: unknown, kept
    assert dropped("language", conv("Translate to French: the sea sings softly in the evening wind.",
                                    "La mer chante doucement sous le vent du soir."),
                   allowed=["en"], per_role={"assistant": ["fr"]}) is None
    code_zh = conv("用Python写一个快速排序函数，并解释它的时间复杂度。", "```python\ndef quicksort(xs):\n    return xs\n```\n时间复杂度是O(n log n)。")
    assert dropped("language", code_zh, allowed=["zh"]) is None


# -- structure --------------------------------------------------------------------------------
def test_turns_and_empty_answer():
    assert dropped("turns", conv("q", "a"), max_turns=1) is None
    two = Conversation([Message("user", "a"), Message("assistant", "b"), Message("user", "c"), Message("assistant", "d")])
    assert dropped("turns", two, max_turns=1) == "too_many_turns"
    assert dropped("turns", conv("q", "a"), min_turns=2) == "too_few_turns"
    assert dropped("empty_answer", conv("q", "  ")) == "empty_answer"
    assert dropped("empty_answer", conv("q", "答")) is None
    call = Conversation([Message("user", "weather?"), Message("assistant", "", tool_calls=[{"id": "1"}]),
                         Message("tool", "sunny", tool_call_id="1"), Message("assistant", "Sunny.")])
    assert dropped("empty_answer", call) is None


def test_json_answer(tmp_path):
    assert dropped("json_answer", conv("q", '{"a": 1}')) is None
    assert dropped("json_answer", conv("q", '```json\n{"a": 1}\n```')) is None
    assert dropped("json_answer", conv("q", "{'a': 1}")) == "not_json"
    schema = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    assert dropped("json_answer", conv("q", '{"name": "张三"}'), schema=schema) is None
    v = verdict("json_answer", conv("q", '{"name": 3}'), schema=schema)
    assert isinstance(v, Drop) and v.code == "schema_mismatch" and "name" in v.message
    p = tmp_path / "s.yaml"
    p.write_text("type: array\n", "utf-8")
    assert dropped("json_answer", conv("q", "[1, 2]"), schema=str(p)) is None
    assert dropped("json_answer", conv("q", "{}"), schema=str(p)) == "schema_mismatch"
    with pytest.raises(UsageError, match="JSON Schema"):
        build("json_answer", {"schema": {"type": "nonsense"}})


# -- PII --------------------------------------------------------------------------------------
VALID_ID = "11010519491231002X"   # the GB 11643 standard's published example


def test_pii_drop():
    assert dropped("pii", conv("Mail me at alice.smith@example.com", "OK")) == "pii"
    assert dropped("pii", conv("我的手机号是13812345678", "好的")) == "pii"
    assert dropped("pii", conv("call +86 138-1234-5678", "ok")) == "pii"
    assert dropped("pii", conv("Call (555) 123-4567 today", "ok")) == "pii"
    assert dropped("pii", conv(f"身份证号{VALID_ID}", "收到")) == "pii"
    bad_checksum = VALID_ID[:-1] + "1"
    assert dropped("pii", conv(f"编号{bad_checksum}", "收到")) is None
    assert dropped("pii", conv("What is 12345678901 * 2?", "24691357802")) is None
    assert dropped("pii", conv("Compute 2019-2020", "-1")) is None
    v = verdict("pii", conv("Mail alice.smith@example.com", "ok"))
    assert "alice.smith@example.com" not in v.message  # the sentence never repeats the PII


def test_pii_mask_edits_copy_and_records_meta():
    from curator.filters import FilterChain

    c = conv(f"我是张三，电话13812345678，邮箱 zs@example.cn，身份证{VALID_ID}", "好的，已记录。")
    chain = FilterChain([build("pii", {"action": "mask"})])
    kept, dropped_ = chain.filter_batch([c])
    assert not dropped_
    out = kept[0]
    assert "13812345678" not in out.messages[0].content and "[PHONE]" in out.messages[0].content
    assert "[EMAIL]" in out.messages[0].content and "[ID_NUMBER]" in out.messages[0].content
    assert out.meta["pii_masked"] == {"cn_id": 1, "email": 1, "phone": 1}
    assert "13812345678" in c.messages[0].content and "pii_masked" not in c.meta  # input untouched


# -- score and user ---------------------------------------------------------------------------
def test_score():
    assert dropped("score", conv("q", "a", meta={"scores": {"helpfulness": 4}}), key="helpfulness", min=3) is None
    assert dropped("score", conv("q", "a", meta={"scores": {"helpfulness": 2}}), key="helpfulness", min=3) == "low_score"
    assert dropped("score", conv("q", "a"), key="helpfulness", min=3) == "no_score"
    assert dropped("score", conv("q", "a"), key="helpfulness", min=3, missing="keep") is None
    assert dropped("score", conv("q", "a", meta={"judge": {"s": 9}}), key="meta.judge.s", max=5) == "high_score"


def test_user_filter(tmp_path, monkeypatch):
    (tmp_path / "my_rules.py").write_text(
        "def no_urls(conv, word='http'):\n"
        "    if word in conv.answer_text():\n"
        "        return False, 'has_url', f'answer contains {word}'\n"
        "    return True\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert dropped("user", conv("q", "see http://x"), function="my_rules:no_urls") == "has_url"
    assert dropped("user", conv("q", "fine"), function="my_rules:no_urls") is None
    assert dropped("user", conv("q", "ftp"), function="my_rules:no_urls", params={"word": "ftp"}) == "has_url"
    with pytest.raises(UsageError, match="no function"):
        build("user", {"function": "my_rules:missing"})
    with pytest.raises(UsageError, match="cannot import"):
        build("user", {"function": "no_such_module_xyz:f"})


# -- reasoning --------------------------------------------------------------------------------
def test_reasoning_presence_length_and_empty_answer():
    r = conv("2+2?", "4", reasoning="Two plus two is four.")
    plain = conv("2+2?", "4")
    assert dropped("reasoning", r, require="present") is None
    assert dropped("reasoning", plain, require="present") == "reasoning_missing"
    assert dropped("reasoning", r, require="absent") == "reasoning_present"
    assert dropped("reasoning", plain, require="absent") is None
    assert dropped("reasoning", r, max_chars=5) == "reasoning_too_long"
    assert dropped("reasoning", r, min_chars=100) == "reasoning_too_short"
    assert dropped("reasoning", conv("小明有5个苹果，吃了2个？", "", reasoning="5-2=3")) == "empty_final_answer"
    assert dropped("reasoning", conv("小明有5个苹果，吃了2个？", "还剩3个。", reasoning="5-2=3")) is None


def test_answer_match_filter():
    c = conv("q", "So the answer is 12.", reasoning="4*3=12", meta={"reference": "#### 12"})
    assert dropped("answer_match", c) is None
    c = conv("q", "So the answer is 13.", reasoning="4*3=13", meta={"reference": "12"})
    v = verdict("answer_match", c)
    assert isinstance(v, Drop) and v.code == "answer_mismatch" and "'13'" in v.message and "'12'" in v.message
    c = conv("q", "还剩3个苹果。", meta={"extra": {"answer": "3"}})
    assert dropped("answer_match", c, reference="meta.extra.answer") is None
    assert dropped("answer_match", conv("q", "a")) is None
    assert dropped("answer_match", conv("q", "a"), missing="drop") == "no_reference"
    assert dropped("answer_match", conv("Capital?", "Paris.", meta={"reference": "paris"})) is None
