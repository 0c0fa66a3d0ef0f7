"""Quick tags (keys 1-9) and reject reasons, from a YAML file or the defaults.

The file may be a list of tags, or ``{"tags": [...], "reasons": [...]}``; only the first nine
tags get number keys. Read with `yaml.safe_load` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from curator.errors import UsageError

DEFAULT_TAGS = ["hallucination", "wrong_answer", "bad_format", "unsafe", "refusal", "incomplete",
                "wrong_language", "bad_reasoning", "good_example"]
DEFAULT_REASONS = ["wrong_answer", "hallucination", "low_quality", "unsafe", "off_topic", "bad_format",
                   "duplicate", "truncated", "wrong_language"]


@dataclass
class ReviewConfig:
    tags: list[str] = field(default_factory=lambda: list(DEFAULT_TAGS))
    reasons: list[str] = field(default_factory=lambda: list(DEFAULT_REASONS))


def load_config(path: str | Path | None) -> ReviewConfig:
    if path is None:
        return ReviewConfig()
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{p}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: not valid YAML ({e})") from None
    cfg = ReviewConfig()
    if isinstance(data, list):
        data = {"tags": data}
    if not isinstance(data, dict):
        raise UsageError(f"{p}: expected a list of tags or a mapping with 'tags' and/or 'reasons'")
    for key in ("tags", "reasons"):
        if key in data:
            val = data[key]
            if not isinstance(val, list) or not all(isinstance(v, (str, int, float)) and str(v).strip() for v in val):
                raise UsageError(f"{p}: '{key}' must be a list of names")
            setattr(cfg, key, [str(v).strip() for v in val])
    return cfg
