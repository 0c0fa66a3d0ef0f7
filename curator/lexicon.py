"""One lexicon: refusal phrases, placeholder rules and language codes, shared by `validate`, the
filters (`refusal`, `placeholder`, `language`) and the rubrics (`no_refusal`, `no_placeholders`),
so a verdict means the same thing wherever it is given.

Refusals. A phrase near the start of an answer ("I can't", "我无法") is a refusal only when the
answer does not go on to help: tool-calling data is full of correct out-of-scope declines ("I
can't book flights, but I can check the weather for you"), and dropping those teaches a model to
pretend it can do everything. `find_refusal` returns the phrase of a refusal that does not help,
or None.

Placeholders. Only real template slots count: ``{{name}}``, ``[INSERT NAME]``, ``[Your Name]``,
``<YOUR NAME>``, ``【此处填写】``, ``【姓名】``, "lorem ipsum". Single braces are not slots — they are
LaTeX (``\\frac{d}{dx}``), code and f-strings (``{name}``). Code (fenced or inline) and LaTeX math
are ignored, and a slot the user asked for (the prompt asks for a template, or the same slot is
in the prompt: "写一封信，抬头用【领导姓名】") is not unfilled.

Language codes. `normalize_lang` accepts what people type (cn, zh-CN, zh-Hans, en-US, eng,
Chinese) and rejects codes the language identifier never returns (a typo like ``xx`` would
otherwise silently drop every record). `requested_languages` reads which languages an
instruction asks for ("translate into Spanish", "用英文回答"), so such an answer is allowed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from curator.errors import UsageError

# ----------------------------------------------------------------------------------- refusals
REFUSAL_EN = [
    "as an ai language model", "as an ai model", "as a language model", "as an ai assistant, i", "as an ai, i",
    "i'm sorry, but i can't", "i am sorry, but i cannot", "i'm sorry, but i cannot", "sorry, i can't",
    "i cannot fulfill", "i can't fulfill", "i cannot assist with", "i can't assist with", "i cannot help with",
    "i can't help with", "i'm unable to", "i am unable to", "i cannot provide", "i can't provide",
    "i'm not able to provide", "i won't be able to", "i must decline", "i cannot comply", "i can't comply",
    "i do not have personal", "i don't have personal", "i don't have the ability", "i do not have the ability",
    "my knowledge cutoff", "i'm just an ai", "i am just an ai", "openai's use case policy", "against my programming",
]
REFUSAL_ZH = [
    "作为一个人工智能", "作为一个ai", "作为一名人工智能", "作为人工智能", "作为ai语言模型", "作为一个语言模型",
    "作为一个大语言模型", "我无法", "我不能提供", "我不能回答", "我不能", "很抱歉，我不能", "抱歉，我无法",
    "对不起，我不能", "很抱歉，我无法", "我只是一个人工智能", "我没有个人", "我没有能力", "无法满足你的要求",
    "无法满足您的要求", "我拒绝",
]
REFUSAL_PHRASES = REFUSAL_EN + REFUSAL_ZH

# What a decline that helps says next: an offer of what the assistant *can* do, or (tool-calling
# data) what its functions do. Matched on the lower-cased text after the refusal phrase.
HELPFUL_PIVOTS = [
    r"\bbut\b[^.!?\n]{0,40}\b(?:i|you|we) (?:can|could)\b(?!not)",
    r"\bi (?:can|could) (?!not\b)(?:help|assist|offer|suggest|provide|give|show|tell|explain|calculate|create|"
    r"check|find|generate|recommend|certainly)",
    r"\bi(?:'d| would) be (?:happy|glad) to\b", r"\b(?:instead|alternatively),",
    r"\bmy (?:current )?(?:capabilities|capability|functions?|abilities)\b",
    r"\bhowever, (?:here|according|i|you|there|it is possible|we)\b", r"\bbut here\b",
    r"\b(?:please|could you|can you) (?:please )?(?:provide|share|give me|tell me)\b",
    r"但(?:是)?(?:我)?(?:可以|能|在)", r"不过(?:我)?(?:可以|能)", r"我可以(?:帮|为|给|提供|建议|告诉|推荐)",
    r"我能够", r"我的能力", r"我的功能", r"能力仅限于", r"我只能", r"能力范围", r"我能解答", r"我建议", r"不过[，,]",
    r"您可以", r"你可以", r"请提供", r"能提供更多", r"您能提供", r"能否提供",
]
# In tool-calling data, pointing at the functions the assistant has is the correct decline.
TOOL_PIVOTS = [r"\bfunctions? (?:provided|available|i have)\b", r"feel free to ask", r"anything else",
               r"提供的(?:功能|函数|工具)", r"请随时", r"如果您需要", r"还有其他"]
PIVOT_WINDOW = 300  # characters after the refusal phrase in which the offer must come
_PIVOT = re.compile("|".join(HELPFUL_PIVOTS))
_TOOL_PIVOT = re.compile("|".join(HELPFUL_PIVOTS + TOOL_PIVOTS))


def _norm_refusal(text: str) -> str:
    # Curly apostrophes are common in model output; fold them so "I’m" matches "i'm".
    return text.lower().replace("\u2019", "'")


@lru_cache(maxsize=64)
def _phrase_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({p.lower() for p in phrases if p.strip()}, key=lambda w: (-len(w), w)))


@lru_cache(maxsize=64)
def _phrase_re(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    words = _phrase_words(phrases)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


def find_refusal(text: str, *, phrases: tuple[str, ...] | list[str] = tuple(REFUSAL_PHRASES),
                 within_chars: int = 300, helpful_declines: bool = True, tool_data: bool = False) -> str | None:
    """The refusal phrase that opens `text` (within its first `within_chars`; 0 = anywhere), or None.

    With `helpful_declines`, a phrase followed within `PIVOT_WINDOW` characters by an offer
    ("but I can…", "My current capabilities…", "但我可以…") is a decline that helps, not a refusal;
    `tool_data` (the record has tools) also accepts a pointer to the functions it has."""
    rx = _phrase_re(tuple(phrases))
    if rx is None:
        return None
    if within_chars and text.isascii():
        # ASCII lowercases one character to one, without context: the prefix the search and the
        # pivot window can reach gives the same answer as lowering the whole (long) answer.
        text = text[: within_chars + PIVOT_WINDOW]
    low = _norm_refusal(text)
    head = low[:within_chars] if within_chars else low
    pivot = _TOOL_PIVOT if tool_data else _PIVOT
    # The alternation of literals matches only where one of them is a substring: `in` tests for all
    # of them cost less than one regex scan, and most answers hold none.
    if not any(map(head.__contains__, _phrase_words(tuple(phrases)))):
        return None
    hit = rx.search(head)
    if hit is None:
        return None
    # The whole decline is judged from its first phrase on: "I'm unable to assist with that. My current
    # capabilities are…" helps, even though "I don't have the ability" comes after the offer.
    if helpful_declines and pivot.search(low, hit.end(), hit.end() + PIVOT_WINDOW):
        return None
    return hit.group(0)


# ------------------------------------------------------------------------------- placeholders
PLACEHOLDER_PATTERNS = [
    r"\{\{\s*[A-Za-z_][\w.\-]*\s*\}\}",                                       # {{name}} (Jinja / mustache)
    r"\[(?:INSERT|YOUR|PLACEHOLDER|TODO)[ _A-Z]*\]",                           # [INSERT NAME], [YOUR NAME]
    r"\[(?:[Yy]our|[Ii]nsert)(?: [A-Za-z']+){1,4}\]",                          # [Your Name], [insert date]
    r"<(?:PLACEHOLDER|INSERT[ _A-Z]*|YOUR[ _A-Z]*)>",                          # <YOUR NAME>
    r"<(?:[Yy]our|[Ii]nsert)(?: [A-Za-z']+){1,4}>",                            # <insert date>
    r"【[^】\n]{0,12}(?:姓名|名字|名称|公司|地址|此处|填写|插入)[^】\n]{0,12}】",  # 【姓名】 【此处填写】
    r"\[(?:此处|请填写|插入|填写)[^\]\n]{0,20}\]",                               # [此处填写日期]
    r"(?i:lorem ipsum)",
]
_FENCED = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
# The prompt asks for a template: then slots in the answer are the point, not a leftover.
_TEMPLATE_ASK = re.compile(r"templat|placeholder|fill[- ]in|boilerplate|模板|模版|范本|占位|留空|空白处", re.I)


# Every default pattern needs one of these in the text (stripping code/math only replaces spans by a
# space, so it cannot create them): texts without any skip the eight-way alternation scan, which
# is most of the placeholder filter's time. `"lorem" in text.lower()` is exactly `(?i:lorem)`: only
# ASCII letters lower-case to (or case-fold with) l, o, r, e, m, and it beats an IGNORECASE scan.
_DEFAULT_PLACEHOLDERS = tuple(PLACEHOLDER_PATTERNS)
# Where a match of a default pattern opening with "[" or "<" can start: its literal opening, which
# a text holds as it is wherever the stripped prose does (no opening holds a space). Keep in step
# with PLACEHOLDER_PATTERNS (tests/test_filter_plain.py checks an example of every slot).
DEFAULT_SLOT_OPENINGS = (r"\[(?:INSERT|YOUR|PLACEHOLDER|TODO|[Yy]our|[Ii]nsert|此处|请填写|插入|填写)",
                         r"<(?:PLACEHOLDER|INSERT|YOUR|[Yy]our|[Ii]nsert)")


def _may_hold_default_placeholder(text: str) -> bool:
    return "[" in text or "<" in text or "{{" in text or "【" in text or "lorem" in text.lower()


@lru_cache(maxsize=16)
def placeholder_re(patterns: tuple[str, ...] = tuple(PLACEHOLDER_PATTERNS)) -> re.Pattern[str] | None:
    """The alternation of `patterns` (a bad pattern is a usage error)."""
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as e:
        raise UsageError(f"placeholder patterns: bad regular expression: {e}") from None


def strip_code_and_math(text: str) -> str:
    """Prose only: fenced code, inline code and LaTeX math removed (braces are normal there)."""
    if "```" in text or "~~~" in text:
        text = _FENCED.sub(" ", text)
    if "`" in text:
        text = _INLINE_CODE.sub(" ", text)
    if "$" in text or "\\(" in text or "\\[" in text:
        text = _MATH.sub(" ", text)
    return text


def find_placeholder(text: str, prompt: str = "", *, patterns: tuple[str, ...] | list[str] = tuple(PLACEHOLDER_PATTERNS),
                     ignore_code: bool = True, is_prompt: bool = False, answer: str = "") -> str | None:
    """The first unfilled template slot in `text`, or None.

    `prompt` is the user's text: when it asks for a template nothing counts, and a slot in an
    answer that the prompt contains was asked for. For a prompt's own text (`is_prompt`), a slot
    the `answer` repeats is the user's instruction ("抬头用【领导姓名】"), not a template left unfilled."""
    patterns = tuple(patterns)
    if patterns == _DEFAULT_PLACEHOLDERS and not _may_hold_default_placeholder(text):
        return None
    rx = placeholder_re(patterns)
    if rx is None:
        return None
    if prompt and _TEMPLATE_ASK.search(prompt):
        return None
    prose = strip_code_and_math(text) if ignore_code else text
    for hit in rx.finditer(prose):
        slot = hit.group(0)
        if (is_prompt and answer and slot in answer) or (not is_prompt and prompt and slot in prompt):
            continue
        return slot
    return None


# ---------------------------------------------------------------------------- language codes
# Every code the bundled language identifier (fastText lid.176) can return, plus "und".
KNOWN_LANGS = frozenset("""
af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb co cs cv cy da
de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv he hi hif hr hsb ht hu hy ia id ie
ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb lez li lmo lo lrc lt lv mai mg mhr min mk ml mn mr
mrj ms mt mwl my myv mzn nah nap nds ne new nl nn no oc or os pa pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah
sc scn sco sd sh si sk sl so sq sr su sv sw ta te tg th tk tl tr tt tyv ug uk ur uz vec vep vi vls vo wa war wuu
xal xmf yi yo yue zh und""".split())

LANG_ALIASES = {
    "cn": "zh", "chs": "zh", "cht": "zh", "zho": "zh", "chi": "zh", "chinese": "zh", "mandarin": "zh",
    "中文": "zh", "汉语": "zh", "简体中文": "zh", "繁体中文": "zh", "zh-hans": "zh", "zh-hant": "zh",
    "eng": "en", "english": "en", "英文": "en", "英语": "en",
    "jp": "ja", "jpn": "ja", "japanese": "ja", "日语": "ja", "日文": "ja",
    "kr": "ko", "kor": "ko", "korean": "ko", "韩语": "ko",
    "fra": "fr", "fre": "fr", "french": "fr", "deu": "de", "ger": "de", "german": "de", "spa": "es", "spanish": "es",
    "rus": "ru", "russian": "ru", "por": "pt", "portuguese": "pt", "ita": "it", "italian": "it",
    "cantonese": "yue", "粤语": "yue",
}

# Names an instruction uses to ask for a language ("in Spanish", "翻译成日语").
_LANG_NAMES = {
    "en": ["english", "英文", "英语"], "zh": ["chinese", "mandarin", "中文", "汉语", "普通话"],
    "es": ["spanish", "西班牙语", "西班牙文"], "fr": ["french", "法语", "法文"], "de": ["german", "德语", "德文"],
    "ja": ["japanese", "日语", "日文"], "ko": ["korean", "韩语", "韩文"], "ru": ["russian", "俄语", "俄文"],
    "it": ["italian", "意大利语"], "pt": ["portuguese", "葡萄牙语"], "nl": ["dutch", "荷兰语"],
    "ar": ["arabic", "阿拉伯语"], "hi": ["hindi", "印地语"], "vi": ["vietnamese", "越南语"], "th": ["thai", "泰语"],
    "la": ["latin", "拉丁语"], "el": ["greek", "希腊语"], "tr": ["turkish", "土耳其语"], "pl": ["polish", "波兰语"],
    "sv": ["swedish", "瑞典语"], "yue": ["cantonese", "粤语"],
}
_ASCII_NAME = {code: [n for n in names if n.isascii()] for code, names in _LANG_NAMES.items()}
_CJK_NAME = {code: [n for n in names if not n.isascii()] for code, names in _LANG_NAMES.items()}
# "translate", "in French", "into French", "用英文", "翻译成": a cue that a named language is the target.
_ASK_CUE = re.compile(r"translat|\b(?:in|into|to)\s+[A-Z]?[a-z]+|翻译|译成|译为|用|说|回答|写", re.I)


def normalize_lang(code: str, where: str = "language") -> str:
    """A canonical language code for what a user typed; UsageError for an unknown one."""
    raw = str(code).strip()
    key = raw.lower().replace("_", "-")
    if key in LANG_ALIASES:
        return LANG_ALIASES[key]
    if key in KNOWN_LANGS:
        return key
    base = key.split("-", 1)[0]  # en-US, zh-CN, pt-BR: the region does not change the language
    if base != key and (base in KNOWN_LANGS or base in LANG_ALIASES):
        return LANG_ALIASES.get(base, base)
    from curator.formats.common import suggest

    hint = suggest(key, sorted(KNOWN_LANGS | set(LANG_ALIASES)), max_distance=1)
    raise UsageError(f"{where}: unknown language code {raw!r}" + (f" — did you mean {hint!r}?" if hint else "")
                     + " (ISO 639-1 codes such as zh, en, ja; aliases cn, zh-CN, zh-Hans, en-US are accepted)")


def normalize_langs(codes: list[str], where: str = "language") -> list[str]:
    out: list[str] = []
    for c in codes:
        n = normalize_lang(c, where)
        if n not in out:
            out.append(n)
    return out


def requested_languages(prompt: str) -> set[str]:
    """Languages the instruction names as a target ("translate into Spanish", "用英文回答")."""
    if not prompt or not _ASK_CUE.search(prompt):
        return set()
    low = prompt.lower()
    found = set()
    for code, names in _ASCII_NAME.items():
        if any(re.search(rf"\b{n}\b", low) for n in names):
            found.add(code)
    for code, names in _CJK_NAME.items():
        if any(n in prompt for n in names):
            found.add(code)
    return found
