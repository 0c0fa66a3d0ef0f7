"""Rule rubrics: cheap, deterministic checks written in Python.

Each rule is ``fn(conv, candidate, **params) -> Score`` registered in `RULES` under a name that
recipes refer to (``rule: no_refusal``). Values lie in [0, 1]; `passed` is the rule's own
verdict, which a recipe uses when the rule is a *gate*. Rules look only at the candidate's
answer (`content`), not its reasoning, unless a parameter says otherwise: the answer is what
the user sees, and reasoning legitimately contains drafts, "I can't…" and half-written code.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable

from curator import lexicon
from curator.answer_match import match as answer_match
from curator.answer_match import reference_text
from curator.record import Conversation, Message
from rubrics.base import Rubric, Score, reference_of

RuleFn = Callable[..., Score]
RULES: dict[str, RuleFn] = {}


def rule(name: str) -> Callable[[RuleFn], RuleFn]:
    def deco(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        return fn
    return deco


def _binary(ok: bool, yes: str, no: str) -> Score:
    return Score(1.0 if ok else 0.0, ok, yes if ok else no)


# -- JSON ------------------------------------------------------------------------------------
_FENCE_JSON = re.compile(r"^\s*```(?:json|JSON)?\s*\n(.*?)\n\s*```\s*$", re.S)


def _json_payload(text: str, allow_fence: bool) -> str:
    if allow_fence:
        m = _FENCE_JSON.match(text)
        if m:
            return m.group(1)
    return text


@rule("json_valid")
def json_valid(conv: Conversation, cand: Message, *, schema: Any = None, allow_fence: bool = True) -> Score:
    """The answer parses as JSON (a single ```json fence around it is allowed) and, when `schema`
    (a dict or a path to a .json/.yaml file) is given, validates against that JSON Schema."""
    try:
        obj = json.loads(_json_payload(cand.content, allow_fence))
    except json.JSONDecodeError as e:
        return Score(0.0, False, f"not JSON: {e.msg} at line {e.lineno} column {e.colno}")
    if schema is None:
        return Score(1.0, True, "parses as JSON")
    import jsonschema

    validator = jsonschema.Draft202012Validator(_load_schema(schema))
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        return Score(0.0, False, f"JSON does not match the schema at {where}: {e.message}"
                     + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""))
    return Score(1.0, True, "JSON matches the schema")


_SCHEMA_CACHE: dict[str, Any] = {}


def _load_schema(schema: Any) -> Any:
    if isinstance(schema, dict):
        return schema
    key = str(schema)
    if key not in _SCHEMA_CACHE:
        import yaml

        _SCHEMA_CACHE[key] = yaml.safe_load(Path(key).read_text(encoding="utf-8"))
    return _SCHEMA_CACHE[key]


# -- length ----------------------------------------------------------------------------------
@rule("length_band")
def length_band(conv: Conversation, cand: Message, *, min_chars: int = 1, max_chars: int | None = None) -> Score:
    """Answer length in characters within [min_chars, max_chars]. Characters, not words, so that
    Chinese (no spaces) and English are measured alike."""
    n = len(cand.content.strip())
    if n < min_chars:
        return Score(0.0, False, f"answer has {n} characters, fewer than {min_chars}")
    if max_chars is not None and n > max_chars:
        return Score(0.0, False, f"answer has {n} characters, more than {max_chars}")
    return Score(1.0, True, f"answer has {n} characters")


# -- language --------------------------------------------------------------------------------
def script_language(text: str) -> str | None:
    """A small script-based language guess: 'zh', 'ja', 'ko', 'latin', or None (no letters).

    Enough to catch the common failure (an English answer to a Chinese prompt, or the reverse);
    curator/langid.py, where present, names languages within a script as well.
    """
    counts = {"han": 0, "kana": 0, "hangul": 0, "latin": 0, "other": 0}
    for ch in text:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            counts["kana"] += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            counts["hangul"] += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            counts["han"] += 1
        elif o < 0x250 or unicodedata.name(ch, "").startswith("LATIN"):
            counts["latin"] += 1
        else:
            counts["other"] += 1
    total = sum(counts.values())
    if not total:
        return None
    if counts["kana"] >= 0.1 * total:
        return "ja"
    if counts["hangul"] >= 0.3 * total:
        return "ko"
    # Han characters carry a word each; Latin letters a fraction of one. Weight them so a Chinese
    # answer quoting an English term (or code) still counts as Chinese.
    if counts["han"] * 3 >= counts["latin"] and counts["han"] > 0:
        return "zh"
    if counts["latin"] >= counts["other"]:
        return "latin"
    return "other"


_NON_LATIN = {"ru", "uk", "bg", "sr", "mk", "be", "kk", "el", "ar", "fa", "ur", "he", "yi", "hi", "mr", "ne", "bn",
              "ta", "te", "th", "ka", "hy", "am", "my", "km", "lo"}


def _expected_script(expected: str) -> str:
    """`expected` as a script name: zh, ja, ko, latin or other. Language codes go through the shared
    lexicon, so cn, zh-CN, en-US mean here what they mean to the language filter."""
    if expected in ("latin", "other"):
        return expected
    code = lexicon.normalize_lang(expected, "language_match: expected")
    if code in ("zh", "yue", "wuu", "ja", "ko"):
        return "zh" if code in ("yue", "wuu") else code
    return "other" if code in _NON_LATIN else "latin"


@rule("language_match")
def language_match(conv: Conversation, cand: Message, *, expected: str | None = None) -> Score:
    """The answer is written in the prompt's language (or in `expected`: zh, ja, ko, latin)."""
    # Code is language-neutral: compare the prose only.
    want = _expected_script(expected) if expected else script_language(_strip_code(conv.prompt_text()))
    got = script_language(_strip_code(cand.content))
    if want is None:
        return Score(1.0, True, "prompt has no letters to compare with")
    if got is None:
        return Score(0.0, False, f"answer has no letters (prompt is {want})")
    return _binary(got == want, f"answer language {got} matches the prompt", f"answer is {got}, prompt is {want}")


# -- phrases ---------------------------------------------------------------------------------
def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).casefold()


@rule("required_phrases")
def required_phrases(conv: Conversation, cand: Message, *, phrases: list[str], mode: str = "all") -> Score:
    """Every (mode=all) or at least one (mode=any) phrase appears, case- and width-insensitive.
    The value is the share found, so it also works as a weighted term."""
    text = _norm(cand.content)
    found = [p for p in phrases if _norm(p) in text]
    missing = [p for p in phrases if p not in found]
    ok = bool(found) if mode == "any" else not missing
    return Score(len(found) / len(phrases) if phrases else 1.0, ok,
                 "all required phrases present" if not missing else f"missing: {', '.join(missing)}")


@rule("forbidden_phrases")
def forbidden_phrases(conv: Conversation, cand: Message, *, phrases: list[str]) -> Score:
    text = _norm(cand.content)
    hits = [p for p in phrases if _norm(p) in text]
    return _binary(not hits, "no forbidden phrase", f"contains: {', '.join(hits)}")


# Refusal phrases and placeholder rules are curator.lexicon's, shared with validate and the
# filters: a record the refusal filter keeps passes no_refusal, and the reverse.
REFUSAL_EN = lexicon.REFUSAL_EN
REFUSAL_ZH = lexicon.REFUSAL_ZH


@rule("no_refusal")
def no_refusal(conv: Conversation, cand: Message, *, head_chars: int = 400, extra: list[str] | None = None,
               helpful_declines: bool = True) -> Score:
    """No refusal phrase (English or Chinese lists) in the first `head_chars` characters: refusals
    open the answer, while a long helpful answer may legitimately say "I cannot stress enough".
    A decline that goes on to help ("I can't book flights, but I can…") is not a refusal."""
    phrases = tuple(lexicon.REFUSAL_PHRASES) + tuple(_norm(x) for x in (extra or []))
    hit = lexicon.find_refusal(_norm(cand.content), phrases=phrases, within_chars=head_chars,
                               helpful_declines=helpful_declines, tool_data=bool(conv.tools))
    if hit:
        return Score(0.0, False, f"refusal: {hit!r}")
    return Score(1.0, True, "no refusal")


@rule("no_placeholders")
def no_placeholders(conv: Conversation, cand: Message) -> Score:
    """No unfilled template slots: {{name}}, [Your Name], <YOUR NAME>, 【此处填写】, lorem ipsum — not
    LaTeX or code braces, and not a slot the user asked for."""
    hit = lexicon.find_placeholder(cand.content, conv.prompt_text())
    return _binary(hit is None, "no placeholder", f"unfilled placeholder {hit!r}" if hit else "")


def _strip_code(text: str) -> str:
    # Braces and TODOs are normal inside code; only prose counts.
    return re.sub(r"```.*?(```|$)", "", text, flags=re.S)


_FENCE_LINE = re.compile(r"^\s{0,3}(`{3,}|~{3,})", re.M)


@rule("code_fences_balanced")
def code_fences_balanced(conv: Conversation, cand: Message) -> Score:
    """Every ``` (or ~~~) fence is closed: an open fence usually means a truncated answer."""
    open_fence: str | None = None
    for m in _FENCE_LINE.finditer(cand.content):
        f = m.group(1)
        if open_fence is None:
            open_fence = f
        elif f[0] == open_fence[0] and len(f) >= len(open_fence):
            open_fence = None
    return _binary(open_fence is None, "code fences balanced", f"unclosed {open_fence} fence")


# -- reasoning: answer after the reasoning matches a reference --------------------------------
def _answer_part(cand: Message) -> str:
    text = cand.content
    if cand.reasoning is None and "</think>" in text:
        text = text.rsplit("</think>", 1)[1]  # reasoning left inline by a tag-style backend
    return text


@rule("answer_matches_reference")
def answer_matches_reference(conv: Conversation, cand: Message, *, mode: str = "number",
                             reference_field: str = "reference") -> Score:
    """The answer after the reasoning matches ``meta[reference_field]``. mode=number: last number
    equal (the usual math rejection-sampling check; `curator.answer_match`); exact: equal after
    NFKC/case/punctuation folding; auto: number when the reference has one; contains: the
    reference appears in the answer. No reference -> not passed, said so."""
    ref = reference_of(conv, reference_field)
    if ref is None:
        return Score(0.0, False, f"no reference answer in meta.{reference_field}")
    answer = _answer_part(cand)
    if mode == "contains":
        a, r = " ".join(_norm(answer).split()), " ".join(_norm(reference_text(ref)).split())
        return _binary(r in a, "answer contains the reference", "reference not found in the answer")
    if mode not in ("number", "exact", "auto"):
        raise ValueError(f"answer_matches_reference: mode must be number, exact, auto or contains, not {mode!r}")
    # The same comparison as the `answer_match` filter, so scoring and filtering agree.
    m = answer_match(answer, ref, mode)
    if m.mode == "number" and m.expected is None:
        return Score(0.0, False, "reference has no number")
    if m.mode == "number":
        return _binary(m.matched, f"last number {m.got} equals the reference",
                       f"last number {m.got}, reference {m.expected}")
    return _binary(m.matched, "answer equals the reference", "answer differs from the reference")


class RuleRubric(Rubric):
    """A registered rule with its parameters bound."""

    def __init__(self, rule_name: str, params: dict[str, Any] | None = None, name: str | None = None):
        if rule_name not in RULES:
            from curator.formats.common import suggest

            hint = suggest(rule_name, RULES)
            raise KeyError(f"unknown rule {rule_name!r}" + (f" — did you mean {hint!r}?" if hint else "")
                           + f" (rules: {', '.join(sorted(RULES))})")
        self.fn = RULES[rule_name]
        self.params = dict(params or {})
        self.name = name or rule_name
        # Bind early so a misspelt parameter is a usage error before any record is read.
        import inspect

        inspect.signature(self.fn).bind(None, None, **self.params)

    def score(self, conv: Conversation, candidate: Message) -> Score:
        return self.fn(conv, candidate, **self.params)
