"""Generation metrics: ROUGE-L (F) and corpus BLEU on tokens that work for Chinese.

Tokens: every CJK character is a token (Chinese has no spaces, and character n-grams are the
usual choice for Chinese ROUGE/BLEU); runs of letters/digits are word tokens, lower-cased after
NFKC; punctuation is dropped. ``segment="jieba"`` cuts Chinese into words with jieba instead,
when it is installed.

ROUGE-L uses a bit-parallel LCS (Hyyrö 2004: one big-int step per token of the answer) so
100,000 answers take seconds, not minutes. BLEU keeps sacrebleu's sufficient statistics
(matches and totals per n-gram order, lengths) per record, so the corpus score and its
bootstrap come from sums; it equals ``sacrebleu.corpus_bleu(..., tokenize="none")`` with the
default ``exp`` smoothing on the same tokens (checked in tests).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from itertools import chain
from typing import Any, Callable, Sequence

import numpy as np

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+", re.U)
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
MAX_N = 4


def char_tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def tokenizer(segment: str = "char") -> Callable[[str], list[str]]:
    """The tokenizer for `--segment char|jieba`."""
    if segment == "char":
        return char_tokens
    if segment != "jieba":
        from curator.errors import UsageError

        raise UsageError(f"--segment {segment!r}: choose char or jieba")
    try:
        import jieba
    except ImportError:
        from curator.errors import UsageError

        raise UsageError("--segment jieba needs jieba: pip install jieba (or use --segment char)") from None
    jieba.setLogLevel(60)

    def words(text: str) -> list[str]:
        # CJK runs are cut into words by jieba; everything else is tokenised as in `char_tokens`
        s = unicodedata.normalize("NFKC", text).casefold()
        out: list[str] = []
        pos = 0
        for m in _CJK_RUN.finditer(s):
            out += _TOKEN.findall(s[pos:m.start()])
            out += [w for w in jieba.lcut(m.group(0)) if w.strip()]
            pos = m.end()
        out += _TOKEN.findall(s[pos:])
        return out

    return words


def lcs_length(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Length of the longest common subsequence (bit-parallel: O(len(b)) big-int operations)."""
    if not a or not b:
        return 0
    masks: dict[Any, int] = {}
    for i, t in enumerate(a):
        masks[t] = masks.get(t, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for t in b:
        u = v & masks.get(t, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(ref: Sequence[Any], hyp: Sequence[Any]) -> float:
    """ROUGE-L F1 (rouge-score's ``fmeasure``)."""
    lcs = lcs_length(ref, hyp)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(hyp), lcs / len(ref)
    return 2 * p * r / (p + r)


def bleu_stats(ref: Sequence[str], hyp: Sequence[str]) -> list[int]:
    """[correct_1..4, total_1..4, hyp_len, ref_len] — sacrebleu's sufficient statistics."""
    correct, total = [0] * MAX_N, [0] * MAX_N
    for n in range(1, min(MAX_N, len(hyp)) + 1):
        h = Counter(zip(*[hyp[k:] for k in range(n)])) if n > 1 else Counter(hyp)
        r = Counter(zip(*[ref[k:] for k in range(n)])) if n > 1 else Counter(ref)
        c = 0
        for g, hc in h.items():  # clipped matches
            rc = r.get(g)
            if rc:
                c += hc if hc < rc else rc
        correct[n - 1] = c
        total[n - 1] = len(hyp) - n + 1
    return correct + total + [len(hyp), len(ref)]


def bleu_stats_batch(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]]) -> np.ndarray:
    """`bleu_stats` of many pairs at once, vectorised: (n_pairs, 10) array.

    Tokens become ids; an n-gram's id is the unique id of (its (n-1)-gram id, its last token),
    so n-grams are exact (no hashing); per-record n-gram counts come from `np.unique` on
    record*G + gram keys, and clipped matches from the keys both sides share.
    """
    n_pairs = len(hyps)
    out = np.zeros((n_pairs, 2 * MAX_N + 2), dtype=np.int64)
    if not n_pairs:
        return out
    hl = np.fromiter((len(t) for t in hyps), dtype=np.int64, count=n_pairs)
    rl = np.fromiter((len(t) for t in refs), dtype=np.int64, count=n_pairs)
    flat = list(chain.from_iterable(hyps)) + list(chain.from_iterable(refs))
    # token ids by sorting the token strings in C (a Python dict lookup per token costs more)
    _, toks = np.unique(np.array(flat, dtype=str) if flat else np.zeros(0, dtype="<U1"), return_inverse=True)
    toks = toks.reshape(-1).astype(np.int64)
    v = int(toks.max()) + 1 if len(toks) else 1
    out[:, 2 * MAX_N], out[:, 2 * MAX_N + 1] = hl, rl
    lens = np.concatenate([hl, rl])
    rec = np.repeat(np.arange(2 * n_pairs), lens)           # hyp records 0..n-1, ref records n..2n-1
    pos = np.arange(len(toks)) - np.repeat(np.cumsum(lens) - lens, lens)
    gram = toks.copy()
    for n in range(1, MAX_N + 1):
        if n > 1:
            # (n-1)-gram at i + token at i+n-1; positions whose n-gram would cross the record's end
            # all get code -1 (one shared id, filtered out below)
            code = gram * v + np.concatenate([toks[n - 1:], np.zeros(n - 1, np.int64)])
            _, gram = np.unique(np.where(pos + n - 1 < lens[rec], code, -1), return_inverse=True)
            gram = gram.reshape(-1)
        valid = pos + n - 1 < lens[rec]
        g_count = int(gram.max()) + 1
        key = rec[valid] * g_count + gram[valid]
        is_hyp = rec[valid] < n_pairs
        hk, hc = np.unique(key[is_hyp], return_counts=True)
        rk, rc = np.unique(key[~is_hyp] - n_pairs * g_count, return_counts=True)
        common, hi, ri = np.intersect1d(hk, rk, assume_unique=True, return_indices=True)
        out[:, n - 1] = np.bincount(common // g_count, weights=np.minimum(hc[hi], rc[ri]), minlength=n_pairs)
        out[:, MAX_N + n - 1] = np.maximum(hl - n + 1, 0)
    return out


def bleu_from_stats(s: Sequence[float]) -> float:
    """Corpus BLEU (0-100) from summed statistics; sacrebleu's compute_bleu with smooth 'exp'."""
    correct, total = list(s[:MAX_N]), list(s[MAX_N:2 * MAX_N])
    sys_len, ref_len = s[2 * MAX_N], s[2 * MAX_N + 1]
    if not any(correct):
        return 0.0
    bp = 1.0 if sys_len >= ref_len else (math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0)
    precisions = [0.0] * MAX_N
    smooth = 1.0
    for n in range(MAX_N):
        if total[n] == 0:
            break
        if correct[n] == 0:
            smooth *= 2
            precisions[n] = 100.0 / (smooth * total[n])
        else:
            precisions[n] = 100.0 * correct[n] / total[n]
    logs = [math.log(p) if p > 0 else -9999999999 for p in precisions]
    return bp * math.exp(sum(logs) / MAX_N)


class Generation:
    name = "generation"
    primary = "rouge_l"

    def __init__(self, answers: Sequence[str], references: Sequence[str], *, segment: str = "char",
                 min_rouge: float = 0.3, scores: Sequence[dict[str, float]] = ()):
        tok = tokenizer(segment)
        n = len(answers)
        # Judge scores written by `curate score --rubric ...` (meta.scores): mean per name.
        self.judges = sorted({k for s in scores for k in s})
        k = 2 + 2 * MAX_N + 2 + 2 * len(self.judges)
        self.stats = np.zeros((n, k))
        hyps, refs = [tok(a) for a in answers], [tok(r) for r in references]
        self.stats[:, 0] = 1.0
        self.stats[:, 1] = [rouge_l(r, h) for r, h in zip(refs, hyps)]
        self.stats[:, 2:2 + 2 * MAX_N + 2] = bleu_stats_batch(refs, hyps)
        for j, name in enumerate(self.judges):
            vals = [s.get(name) for s in scores]
            self.stats[:, 12 + 2 * j] = [v if v is not None else 0.0 for v in vals]
            self.stats[:, 13 + 2 * j] = [v is not None for v in vals]
        self.score = self.stats[:, 1]
        self.ok = self.score >= min_rouge
        self.min_rouge = min_rouge

    def sums(self, w: np.ndarray) -> np.ndarray:
        return w @ self.stats

    def summarize(self, s: np.ndarray) -> dict[str, float]:
        out = {"rouge_l": float(s[1] / s[0]) if s[0] else 0.0, "bleu": bleu_from_stats(s[2:2 + 2 * MAX_N + 2])}
        base = 2 + 2 * MAX_N + 2
        for j, name in enumerate(self.judges):
            tot, cnt = s[base + 2 * j], s[base + 2 * j + 1]
            if cnt:
                out[f"judge.{name}"] = float(tot / cnt)
        return out

    def extras(self) -> dict[str, Any]:
        return {"min_rouge_for_ok": self.min_rouge,
                "judge_scores_from": "meta.scores (curate score --rubric ...)" if self.judges else None}

    def detail(self, i: int) -> dict[str, Any]:
        return {"rouge_l": round(float(self.score[i]), 4),
                "why": f"ROUGE-L {self.score[i]:.2f} is below {self.min_rouge}"}
