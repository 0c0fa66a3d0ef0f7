"""Practice checks: the field's rules of thumb for SFT data and LoRA training, checked against the
user's data and training config, with the numbers.

Rules are data (`rules.RULES`): what is measured, the rule, its source sentence in English and
Chinese, default thresholds (overridable from a YAML file, `config.load_practice_config`) and what
to do. Checks are pure functions over compact per-record statistics collected in one streaming pass
(`check_facts.PracticeFacts`), so they run inside `curate report`, after `curate run` stages and at
the start of `train` without holding records in memory.

Layout: `rules` (the rule table), `config` (thresholds + user YAML), `check_facts` (`PracticeFacts`,
the streaming accumulator), `task` (task-type detection), `coverage` (near-match of a small set against a
large one by MinHash: badcases, eval-vs-train), `checks` (data checks), `training` (training config
and after-training checks), `render` (terminal lines and the HTML section).
"""

from __future__ import annotations

from curator.practice.check_facts import PracticeFacts
from curator.practice.checks import Check, data_checks
from curator.practice.config import PracticeConfig, load_practice_config
from curator.practice.dataset import check_file, finish

__all__ = ["Check", "PracticeConfig", "PracticeFacts", "check_file", "data_checks", "finish", "load_practice_config"]
