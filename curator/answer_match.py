"""Does a model's final answer match a reference answer? Pure functions, no state.

Used by the `answer_match` filter (rejection sampling of reasoning data) and meant for the
best-of-K rule rubric. Two ways to compare:

- ``number``: the last number in each text, compared as exact fractions ("1,234" = "1234.0",
  "3/4" = "0.75", "$18" = "18"). A ``\\boxed{...}`` in the answer wins over any later number
  (R1 and Qwen math answers box the result, then keep talking). A GSM8K-style reference
  ("... #### 72") is read after its last ``####``.
- ``exact``: NFKC, case-folded, punctuation and whitespace removed ("Yes." = "yes").
- ``auto`` (default): ``number`` when the reference contains a number, else ``exact``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

# A signed number with optional thousands separators, decimals, or a simple fraction a/b.
_NUM = re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:/\d+)?|[-−]?\d+(?:\.\d+)?(?:/\d+)?|[-−]?\.\d+")
_BOXED = re.compile(r"\\boxed\s*\{")
_PUNCT_WS = re.compile(r"[\W_]+", re.U)


@dataclass(frozen=True, slots=True)
class Match:
    matched: bool
    mode: str           # "number" or "exact"
    got: str | None     # what was extracted from the answer
    expected: str | None


def reference_text(reference: str) -> str:
    """The answer part of a reference: after the last '####' (GSM8K) when present."""
    if "####" in reference:
        return reference.rsplit("####", 1)[1].strip()
    return reference.strip()


def _last_boxed(text: str) -> str | None:
    starts = [m.end() for m in _BOXED.finditer(text)]
    if not starts:
        return None
    i = starts[-1]
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def last_number(text: str) -> str | None:
    """The last number written in `text` (inside the last \\boxed{} when there is one), as written."""
    boxed = _last_boxed(text)
    if boxed is not None and _NUM.search(boxed):
        text = boxed
    found = _NUM.findall(unicodedata.normalize("NFKC", text))
    return found[-1] if found else None


def to_fraction(num: str) -> Fraction | None:
    s = num.replace(",", "").replace("−", "-")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def normalize(text: str) -> str:
    return _PUNCT_WS.sub("", unicodedata.normalize("NFKC", text).casefold())


def match(answer: str, reference: str, mode: str = "auto") -> Match:
    """Compare an answer with a reference answer. `mode`: auto, number or exact."""
    if mode not in ("auto", "number", "exact"):
        raise ValueError(f"mode {mode!r}: choose auto, number or exact")
    ref = reference_text(str(reference))
    if mode == "auto":
        mode = "number" if _NUM.search(ref) else "exact"
    if mode == "number":
        want, got = last_number(ref), last_number(answer)
        if want is None or got is None:
            return Match(False, mode, got, want)
        a, b = to_fraction(got), to_fraction(want)
        return Match(a is not None and a == b, mode, got, want)
    return Match(normalize(answer) == normalize(ref) and bool(normalize(ref)), mode, answer.strip(), ref)


def answers_match(answer: str, reference: str, mode: str = "auto") -> bool:
    return match(answer, reference, mode).matched
