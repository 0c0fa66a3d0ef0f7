"""Generated test data shared by the engine tests: many short records with bad rows, refusals, PII,
exact and near duplicates scattered through."""

from __future__ import annotations

import json
import random
from pathlib import Path

TOPICS = ["photosynthesis", "binary search", "光合作用", "二分查找", "tides", "潮汐", "recursion", "递归"]


def make_big(path: Path, n: int = 200_000, seed: int = 7) -> None:
    """Short records, with bad rows, refusals, exact and near duplicates scattered through."""
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            t = TOPICS[i % len(TOPICS)]
            k = rnd.randrange(1000)
            if k == 0:
                fh.write('{"messages": [broken\n')
                continue
            if k == 1:
                row = {"messages": [{"role": "asistant", "content": "x"}]}
            else:
                j = i if k > 60 else rnd.randrange(max(1, i))  # ~6% repeat an earlier record's text
                answer = (f"I'm sorry, I can't help with {t}." if k == 2 else
                          f"Answer {j}: {t} explained in a few words, item {j % 977}, note {j * 7919 % 10007}.")
                if k == 3:  # PII for filter's pii step
                    answer += f" Write to user{j}@example.com or call 13812345678."
                elif 3 < k <= 20:  # ~1.7% near-duplicates of an earlier record (a small edit)
                    answer += " See above."
                row = {"id": f"r{i}", "messages": [{"role": "user", "content": f"Question {j} about {t}?"},
                                                   {"role": "assistant", "content": answer}]}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
