"""Mistakes back into data: for each badcase a teacher writes K new prompts that exercise the same
weakness, and near-duplicates (of the badcase, of the eval set, of each other) are dropped so
the next round never trains on its own test.

A badcase is any record with a prompt (the queue `curate eval --badcases`, `train eval`'s
badcases.jsonl or `curate review export --badcases` writes). The teacher sees the prompt, the
wrong answer, the reference and why it was judged wrong, and replies with a JSON array of K
prompts (numbered lines are accepted too). A new prompt keeps lineage to its badcase in
``meta.augmented_from`` and ``meta.weakness``. When the badcase is Chinese, a prompt with no
Chinese in it is rejected (``language_mismatch``): the teacher sometimes drifts to English.

Near-duplicates are found with the project's MinHash (`curator.minhash`, character 3-grams of
`textnorm.normalize`d text, which suits short Chinese prompts) and LSH buckets, then checked
with the estimated Jaccard similarity against `threshold`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Iterable

import numpy as np

from curator.config_check import Bounds, check_config
from curator.evaluate.extract import parse_json
from curator.langid import has_cjk
from curator.minhash import MinHashParams, band_keys, estimate_jaccard, signatures
from curator.record import Conversation, Message
from curator.textnorm import normalize

PARAMS = MinHashParams(num_perm=64, ngram=3, seed=1)
_BANDS, _ROWS = 16, 4
_NUMBERED = re.compile(r"^\s*(?:\d+[.)、:：]|[-*•])\s*(.+?)\s*$")

SYSTEM_ZH = ("你是训练数据设计者。一个模型在下面的案例上答错了。请写 {k} 个新的用户提问，考察同一个薄弱点："
             "换说法、换难度、换场景，不要照抄原题，不要给出答案。提问用中文。只输出一个 JSON 字符串数组。")
SYSTEM_EN = ("You design training data. A model got the case below wrong. Write {k} new user prompts that test the "
             "same weakness: vary the wording, the difficulty and the context; do not copy the original; do not "
             "answer them. Write them in the language of the original. Output only a JSON array of strings.")


@dataclass
class AugmentConfig:
    """Options of `curate augment` (validated here for the CLI, recipes and Python alike)."""

    per: Annotated[int, Bounds(1, 50)] = 3  # new prompts per badcase
    threshold: Annotated[float, Bounds(0, 1, lo_open=True)] = 0.6  # estimated Jaccard of a near-duplicate
    temperature: float = 0.9    # varied prompts need sampling
    max_tokens: int = 1024

    def __post_init__(self) -> None:
        check_config(self)


def badcase_parts(conv: Conversation) -> tuple[str, str, str, str]:
    """(prompt, wrong answer, reference, why) of a badcase record."""
    prompt = "\n".join(m.content for m in conv.prompt_messages() if m.role == "user")
    ans = conv.last("assistant")
    ref = conv.meta.get("reference")
    ref_text = ref.get("content", "") if isinstance(ref, dict) else (ref or "")
    ev = conv.meta.get("eval") if isinstance(conv.meta.get("eval"), dict) else {}
    review = conv.meta.get("review") if isinstance(conv.meta.get("review"), dict) else {}
    why = str(ev.get("why") or review.get("reason") or conv.meta.get("reason") or "")
    return prompt, ans.content if ans else "", str(ref_text), why


def teacher_messages(conv: Conversation, k: int) -> list[dict[str, str]]:
    prompt, answer, ref, why = badcase_parts(conv)
    zh = has_cjk(prompt)
    parts = [("原题" if zh else "Original prompt", prompt), ("模型的回答" if zh else "Model's answer", answer),
             ("参考答案" if zh else "Reference answer", ref), ("错在哪里" if zh else "What was wrong", why)]
    body = "\n\n".join(f"## {h}\n{t}" for h, t in parts if t)
    return [{"role": "system", "content": (SYSTEM_ZH if zh else SYSTEM_EN).format(k=k)},
            {"role": "user", "content": body}]


def parse_prompts(text: str) -> list[str]:
    """The prompts in a teacher reply: a JSON array (bare or fenced, or {"prompts": [...]}) or numbered lines."""
    try:
        v = parse_json(text)
        if isinstance(v, dict):
            v = next((x for x in v.values() if isinstance(x, list)), [])
        items = [x if isinstance(x, str) else (x.get("prompt") if isinstance(x, dict) else None) for x in v]
        return [x.strip() for x in items if isinstance(x, str) and x.strip()]
    except ValueError:
        pass
    return [m.group(1) for line in text.splitlines() if (m := _NUMBERED.match(line))]


class NearDuplicates:
    """MinHash index of texts that new prompts must not resemble (eval prompts, accepted prompts)."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.sigs: list[np.ndarray] = []
        self.texts: list[str] = []
        self.buckets: dict[int, list[int]] = {}
        self.norms: dict[str, str] = {}  # normalised text -> text: exact copies, however short

    @staticmethod
    def signature(texts: list[str]) -> np.ndarray:
        return signatures([normalize(t) for t in texts], PARAMS)

    def add(self, texts: list[str], sigs: np.ndarray | None = None) -> None:
        sigs = self.signature(texts) if sigs is None else sigs
        keys = band_keys(sigs, _BANDS, _ROWS)
        for t, s, ks in zip(texts, sigs, keys):
            i = len(self.sigs)
            self.sigs.append(s)
            self.texts.append(t)
            self.norms.setdefault(normalize(t), t)
            for k in ks.tolist():
                self.buckets.setdefault(k, []).append(i)

    def match(self, sig: np.ndarray, text: str) -> tuple[str, float] | None:
        """The most similar indexed text at or above the threshold (exact normalised match included)."""
        cands = {i for k in band_keys(sig[None, :], _BANDS, _ROWS)[0].tolist() for i in self.buckets.get(k, ())}
        norm = normalize(text)
        best = None
        for i in cands:
            sim = 1.0 if normalize(self.texts[i]) == norm else float(estimate_jaccard(self.sigs[i], sig))
            if sim >= self.threshold and (best is None or sim > best[1]):
                best = (self.texts[i], sim)
        if best is None and norm in self.norms:  # tiny texts have few shingles; exact copies always count
            return self.norms[norm], 1.0
        return best


def new_records(conv: Conversation, prompts: list[str], start: int = 0) -> Iterable[Conversation]:
    _, _, _, why = badcase_parts(conv)
    for j, p in enumerate(prompts, start):
        rec = Conversation([Message("user", p)], id=f"{conv.id}-aug{j + 1}",
                           meta={"source": "augment", "augmented_from": conv.id, "weakness": why,
                                 "lineage": list(conv.meta.get("lineage") or []) + ["augment"]})
        yield rec
