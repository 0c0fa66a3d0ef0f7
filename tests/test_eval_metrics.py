"""Metrics of `curator.evaluate` against reference implementations on the same inputs:
scikit-learn's classification report, rouge-score's ROUGE-L, sacrebleu's corpus BLEU."""

from __future__ import annotations

import random

import numpy as np
import pytest

from curator.evaluate.bootstrap import with_intervals
from curator.evaluate.classify import Classification
from curator.evaluate.extract import Extraction, flatten, parse_json
from curator.evaluate.labels import LabelMap, normalize_label
from curator.evaluate.tasks import MathAnswers, guess
from curator.evaluate.textsim import Generation, bleu_from_stats, bleu_stats, char_tokens, lcs_length, rouge_l

LABELS = ["正面", "负面", "中性", "spam", "ham"]


def _pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    ref = [rng.choice(LABELS) for _ in range(n)]
    # the model is right 60% of the time, else any label — or one it invented
    pred = [r if rng.random() < 0.6 else rng.choice(LABELS + ["其他"]) for r in ref]
    return pred, ref


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_equals_sklearn(seed):
    metrics = pytest.importorskip("sklearn.metrics")
    pred, ref = _pairs(500, seed)
    c = Classification(pred, ref, LabelMap())
    got = c.summarize(c.sums(np.ones(len(pred))))
    rep = metrics.classification_report(ref, pred, output_dict=True, zero_division=0)
    assert got["accuracy"] == pytest.approx(rep["accuracy"], abs=1e-12)
    assert got["macro_precision"] == pytest.approx(rep["macro avg"]["precision"], abs=1e-12)
    assert got["macro_recall"] == pytest.approx(rep["macro avg"]["recall"], abs=1e-12)
    assert got["macro_f1"] == pytest.approx(rep["macro avg"]["f1-score"], abs=1e-12)
    assert got["weighted_f1"] == pytest.approx(rep["weighted avg"]["f1-score"], abs=1e-12)
    assert got["micro_f1"] == pytest.approx(metrics.f1_score(ref, pred, average="micro"), abs=1e-12)
    per = c.extras()["per_label"]
    for lab in set(ref) | set(pred):
        assert per[lab]["precision"] == pytest.approx(rep[lab]["precision"], abs=1e-12)
        assert per[lab]["recall"] == pytest.approx(rep[lab]["recall"], abs=1e-12)
        assert per[lab]["f1"] == pytest.approx(rep[lab]["f1-score"], abs=1e-12)
        assert per[lab]["support"] == rep[lab]["support"]
    labels = c.extras()["labels"]
    assert c.extras()["confusion"] == metrics.confusion_matrix(ref, pred, labels=labels).tolist()


def test_label_normalisation_and_synonyms():
    assert normalize_label("  ＰＯＳＩＴＩＶＥ。 ") == "positive"
    assert normalize_label('"Spam."') == "spam"
    assert normalize_label("正面！") == "正面"
    m = LabelMap({"正面": ["positive", "Pos"]})
    assert m("POSITIVE") == m("pos") == m("正面") == "正面"
    c = Classification(["Positive.", "ＮＥＧ", "neg"], ["正面", "neg", "neg"], m)
    assert c.ok.tolist() == [True, True, True]


def _texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    vocab = list("我们今天学习机器的模型数据很好天气") + ["model", "data", "good", "the", "is", "42"]
    refs, hyps = [], []
    for _ in range(n):
        ref = [rng.choice(vocab) for _ in range(rng.randint(1, 30))]
        hyp = [t if rng.random() < 0.7 else rng.choice(vocab) for t in ref]
        hyp = hyp[: rng.randint(1, len(hyp))] + [rng.choice(vocab) for _ in range(rng.randint(0, 5))]
        sep = lambda toks: "".join(t if len(t) == 1 and not t.isascii() else f" {t} " for t in toks)  # noqa: E731
        refs.append(sep(ref))
        hyps.append(sep(hyp))
    return hyps, refs


def test_rouge_l_equals_rouge_score():
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")

    class Tok:  # rouge-score with our Chinese-aware tokens: the LCS and F-measure must agree exactly
        def tokenize(self, text):
            return char_tokens(text)

    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=Tok())
    hyps, refs = _texts(400, 3)
    for h, r in zip(hyps, refs):
        want = scorer.score(r, h)["rougeL"].fmeasure
        assert rouge_l(char_tokens(r), char_tokens(h)) == pytest.approx(want, abs=1e-12)


def test_lcs_bit_parallel_equals_dynamic_programming():
    rng = random.Random(5)
    for _ in range(300):
        a = [rng.randint(0, 5) for _ in range(rng.randint(0, 40))]
        b = [rng.randint(0, 5) for _ in range(rng.randint(0, 40))]
        dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(len(a)):
            for j in range(len(b)):
                dp[i + 1][j + 1] = dp[i][j] + 1 if a[i] == b[j] else max(dp[i][j + 1], dp[i + 1][j])
        assert lcs_length(a, b) == dp[-1][-1]


def test_corpus_bleu_equals_sacrebleu():
    sacrebleu = pytest.importorskip("sacrebleu")
    for seed in (0, 1):
        hyps, refs = _texts(300, seed)
        ht, rt = [char_tokens(h) for h in hyps], [char_tokens(r) for r in refs]
        stats = np.sum([bleu_stats(r, h) for r, h in zip(rt, ht)], axis=0)
        want = sacrebleu.corpus_bleu([" ".join(t) for t in ht], [[" ".join(t) for t in rt]], tokenize="none").score
        assert bleu_from_stats(stats) == pytest.approx(want, abs=1e-9)
    g = Generation(hyps, refs)
    assert g.summarize(g.sums(np.ones(len(hyps))))["bleu"] == pytest.approx(want, abs=1e-9)


def test_chinese_tokens_are_characters():
    assert char_tokens("今天 Weather很好, ＧＰＴ-4!") == ["今", "天", "weather", "很", "好", "gpt", "4"]


def test_extraction_fields():
    assert parse_json('结果如下：```json\n{"a": 1}\n```') == {"a": 1}
    assert flatten({"a": {"b": "X "}, "c": ["y", "x"]}) == flatten({"c": ["x", "y"], "a": {"b": "x"}})
    e = Extraction(['{"name": "张三", "age": 30}', "sorry", '{"city": "北京", "extra": 1}'],
                   ['{"name": "张三", "age": 31}', '{"city": "上海"}', '{"city": "北京"}'])
    s = e.summarize(e.sums(np.ones(3)))
    # tp: name, city = 2; predicted fields: 2 + 0 + 2 = 4; reference fields: 2 + 1 + 1 = 4
    assert s["field_precision"] == pytest.approx(2 / 4) and s["field_recall"] == pytest.approx(2 / 4)
    assert s["exact_match"] == 0 and s["invalid_json_rate"] == pytest.approx(1 / 3)
    assert e.detail(0)["wrong_value"] == ["age"] and e.detail(2)["unexpected"] == ["extra"]
    assert e.extras()["per_field"]["city"]["recall"] == pytest.approx(0.5)


def test_math_uses_answer_match():
    m = MathAnswers(["so \\boxed{72}", "it is 1,234.0", "no idea"], ["#### 72", "1234", "5"])
    assert m.ok.tolist() == [True, True, False]
    assert m.detail(2)["why"] == "no final answer found"


def test_task_guess():
    assert guess('{"a": 1}') == "extraction"
    assert guess("#### 12") == "math" and guess("3/4") == "math"
    assert guess("正面") == "label"
    assert guess("床前明月光，疑是地上霜。举头望明月。") == "generation"


def test_bootstrap_interval_covers_value_and_is_deterministic():
    pred, ref = _pairs(300, 9)
    c = Classification(pred, ref, LabelMap())
    a = with_intervals(c, 300, resamples=200, seed=1)
    b = with_intervals(c, 300, resamples=200, seed=1)
    assert a == b
    lo, hi = a["accuracy"]["ci"]
    assert lo < a["accuracy"]["value"] < hi and hi - lo < 0.2


def test_vectorised_bleu_stats_equal_per_pair():
    from curator.evaluate.textsim import bleu_stats_batch

    hyps, refs = _texts(300, 7)
    ht, rt = [char_tokens(h) for h in hyps] + [[]], [char_tokens(r) for r in refs] + [["a"]]
    want = np.array([bleu_stats(r, h) for r, h in zip(rt, ht)])
    assert (bleu_stats_batch(rt, ht) == want).all()


def test_judge_scores_from_meta_scores_are_averaged():
    g = Generation(["好", "不好", "一般"], ["好", "好", "好"], scores=[{"helpfulness": 8.0}, {"helpfulness": 4.0}, {}])
    s = g.summarize(g.sums(np.ones(3)))
    assert s["judge.helpfulness"] == 6.0  # the record without a judge score is not counted as 0
    assert s["rouge_l"] == pytest.approx((1 + 2 / 3 + 0) / 3)  # "不好" vs "好": P 1/2, R 1 -> F 2/3


def test_jieba_segmentation_when_installed():
    pytest.importorskip("jieba")
    from curator.evaluate.textsim import tokenizer

    words = tokenizer("jieba")("我们今天学习机器学习 with GPT-4")
    assert "机器" in words or "机器学习" in words
    assert words[-3:] == ["with", "gpt", "4"]
