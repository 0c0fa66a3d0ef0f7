"""Chinese near-duplicates: text that is mostly CJK is shingled by character bigrams (measured in
bench/dedup_zh_bench.py), so a paraphrase with four small edits is found at the default threshold,
while English keeps 5-grams and distinct Chinese records stay apart."""

from __future__ import annotations

import json

from curator.dedup import DUPLICATE, KEPT, NEAR_DUPLICATE, DedupConfig, dedup_texts
from curator.minhash import MinHashParams, is_cjk, shingle_sizes
from curator.textnorm import normalize

PROMPT = "请介绍一下提高睡眠质量的几个方法。"
ANSWER = ("提高睡眠质量可以从几个方面入手：保持规律的作息时间，睡前不要使用手机和电脑，因为屏幕的蓝光会影响褪黑素的分泌；"
          "卧室要保持安静和黑暗；白天适量运动，但睡前两小时内不要剧烈运动。")
# four small edits: 可以 -> 能够, 因为 -> 由于, "其实" inserted, 适量 -> 适当
EDITED = ANSWER.replace("可以", "能够").replace("因为", "由于").replace("卧室", "其实卧室").replace("适量", "适当")


def test_script_decides_the_shingle_size():
    p = MinHashParams()
    texts = [normalize(t) for t in (ANSWER, "Explain photosynthesis in simple words.", "用Python写一个快速排序", "")]
    assert [is_cjk(t) for t in texts] == [True, False, True, False]
    assert shingle_sizes(texts, p).tolist() == [2, 5, 2, 5]
    assert shingle_sizes(texts, MinHashParams(ngram_cjk=0)).tolist() == [5, 5, 5, 5]


def test_four_small_edits_in_chinese_are_a_near_duplicate_at_the_default_threshold():
    texts = [(PROMPT, ANSWER), (PROMPT, EDITED), ("请介绍一下提高学习效率的几个方法。",
             "提高学习效率的关键在于制定清晰的计划、保持专注、合理休息，并且及时复习所学的内容，把大目标拆成小任务逐个完成。")]
    assert dedup_texts(texts).status.tolist() == [KEPT, NEAR_DUPLICATE, KEPT]
    # with 5-grams for Chinese too (the old behaviour) the same pair is missed at 0.7
    old = dedup_texts(texts, DedupConfig(minhash=MinHashParams(ngram_cjk=0)))
    assert old.status.tolist() == [KEPT, KEPT, KEPT]


def test_real_alpaca_zh_keeps_distinct_records_apart(real):
    rows = json.loads((real / "alpaca_zh_demo.json").read_text(encoding="utf-8"))
    recs = [("\n".join(x for x in (r["instruction"], r.get("input", "")) if x), r["output"]) for r in rows]
    pl = dedup_texts(recs)
    # alpaca_zh_demo holds 8 exact copies and no near-duplicates: bigrams merge no distinct records
    assert int((pl.status == DUPLICATE).sum()) == 8
    assert int((pl.status == NEAR_DUPLICATE).sum()) == 0
