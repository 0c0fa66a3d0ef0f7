"""Which report figures are exact and which are estimated from a sample, and the sample itself.

A report of a 1 GB file (about a million records) has to finish in well under a minute on two
cores, which leaves some tens of microseconds per record. Counting, hashing and histogramming fit
in that; three figures do not, and they are computed on a sample:

- **language mix** — fastText language ID costs ~100 µs a record. A share estimated from 20,000
  records is within about ±0.7 percentage points (95%) of the whole file's, which is what the
  chart shows; nobody acts on the 7th digit of a language count.
- **near duplicates and conflicts** (report and practice checks) — MinHash signatures cost ~115 µs
  a record and the LSH plan grows with the input. Found among the sampled records only: a pair
  counts when both of its records are in the sample, so on a sampled file the figure says how
  common near duplicates are *within the sample* (a lower bound for the whole file, where each
  record has k times more records to collide with). `curate dedup` gives the whole-file count; the
  exact-duplicate counts below stay exact.
- **semantic diversity** — it already used a seeded sample of 20,000 prompts; now it reuses this
  sample instead of a second read of the file.

Everything users act on stays exact over every record: records, invalid rows by reason, exact
duplicate records and instructions, lengths per role, turns, roles, tool calls, reasoning, sources,
tags, scores, generation info, distinct-n sketches, first words and every practice check except
the two above.

The sample is every k-th line of the file, k = ceil(lines / SAMPLE): deterministic (same file, same
sample), spread evenly over the file, and decided by a record's line number alone, so worker
processes that each read a byte range pick the same records one process picks. A file of at most
SAMPLE lines has k = 1: every record is in it and the report is exactly the unsampled one. Inputs
whose lines cannot be counted cheaply (gzip, JSON arrays, Parquet, folders) are not sampled. The
page and the JSON say which figures were estimated and from how many records
(``"sample": {"records": N, "of": M, ...}``, "estimated from N of M records" /
"由 M 条中的 N 条估算").
"""

from __future__ import annotations

import math
import random
from pathlib import Path

SAMPLE = 20_000


def count_lines(path: str | Path) -> int:
    """Lines of a file (a last line without a newline counts), at disk speed."""
    n = 0
    last = b"\n"
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def step_for(lines: int, sample: int | None = None) -> int:
    """k: every k-th line is in the sample (1 = all of them)."""
    return max(1, math.ceil(lines / (sample or SAMPLE)))


def in_sample(line: int, k: int) -> bool:
    return k == 1 or (line - 1) % k == 0


class PromptSample:
    """The prompts the semantic section embeds: all of them while at most `limit`, else a seeded
    reservoir of `limit` kept in file order (the unsampled report's behaviour, same seed, same
    records). Parts from worker processes are concatenated in file order; they hold at most
    `limit` prompts together (the line sample caps them), so the reservoir never runs there."""

    def __init__(self, limit: int | None = None, seed: int = 0) -> None:
        self.limit = limit or SAMPLE
        self.rng = random.Random(seed)
        self.kept: list[tuple[int, str, str]] = []
        self.n = 0

    def add(self, rid: str, prompt: str) -> None:
        if self.n < self.limit:
            self.kept.append((self.n, rid, prompt))
        else:
            j = self.rng.randrange(self.n + 1)
            if j < self.limit:
                self.kept[j] = (self.n, rid, prompt)
        self.n += 1

    def merge(self, other: "PromptSample") -> None:
        if self.n + other.n > self.limit:
            raise ValueError("prompt samples to merge hold more than the limit")
        self.kept.extend((self.n + i, rid, p) for i, rid, p in other.kept)
        self.n += other.n

    def result(self) -> tuple[list[str], list[str], int]:
        """(ids, prompts, prompts seen), in file order."""
        kept = sorted(self.kept)
        return [k[1] for k in kept], [k[2] for k in kept], self.n
