"""Label normalisation for classification: two spellings of one label must count as one.

``normalize_label`` applies NFKC (full-width "ＰＯＳ" -> "POS", full-width spaces), case-folding,
whitespace collapsing and strips wrapping quotes/brackets and trailing punctuation ("正面。" ->
"正面", "Positive." -> "positive"). A synonyms map (YAML ``{canonical: [variant, ...]}``) then
folds variants onto one label, compared after the same normalisation.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from curator.errors import UsageError

_WS = re.compile(r"\s+")
# What models wrap a bare label in: quotes, brackets, sentence-final punctuation (ASCII after NFKC,
# plus the CJK ones NFKC leaves alone).
_STRIP = " \t\n\"'`“”‘’「」『』《》()[]{}<>.,;:!?。，、；：！？…*_"


def normalize_label(text: str) -> str:
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    s = _WS.sub(" ", s).strip(_STRIP)
    return _WS.sub(" ", s).strip()


class LabelMap:
    """Normalises a label and maps synonyms onto their canonical label."""

    def __init__(self, synonyms: dict[str, list[str]] | None = None):
        self.to_canonical: dict[str, str] = {}
        for canon, variants in (synonyms or {}).items():
            c = normalize_label(canon)
            for v in [canon, *variants]:
                self.to_canonical[normalize_label(v)] = c

    def __call__(self, text: str) -> str:
        n = normalize_label(text)
        return self.to_canonical.get(n, n)


def load_synonyms(path: str | Path | None) -> LabelMap:
    """A `LabelMap` from a YAML file ``{canonical: [variant, ...]}`` (read with safe_load)."""
    if path is None:
        return LabelMap()
    import yaml

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--synonyms {p}: no such file")
    try:
        data: Any = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"--synonyms {p}: not valid YAML ({str(e).splitlines()[0]})") from None
    if data is None:
        return LabelMap()
    if not isinstance(data, dict) or not all(isinstance(v, (list, str)) for v in data.values()):
        raise UsageError(f"--synonyms {p}: expected a mapping canonical: [variant, ...], e.g. 正面: [positive, pos]")
    return LabelMap({str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in data.items()})
