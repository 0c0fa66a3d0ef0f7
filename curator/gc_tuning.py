"""Garbage-collector settings for the generating commands (distill, best-of-K, client processes).

At ~1,000 requests/s the HTTP stack allocates hundreds of objects per request, so CPython's
default first-generation threshold (700) runs a collection every request or two, and every
full collection walks the ~90k objects imported at start-up (openai, pydantic, aiohttp: ~45 ms
here). Each of those pauses stops the event loop while answers queue. Freezing what exists at
the start moves it out of every later collection, and a larger threshold makes young collections
rarer; cycles are still collected. In bench/distill_bench.py this took c=256 from ~66% to ~76% of
the bound in one process and from ~74% to ~79% with 4 client processes.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

GEN0_THRESHOLD = 20_000
OLDER_THRESHOLD = 20


@contextmanager
def throughput_gc() -> Iterator[None]:
    """Freeze the objects alive now and raise the collection thresholds; restore both after."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


@contextmanager
def rare_young_collections() -> Iterator[None]:
    """Raise only the first-generation threshold (to `GEN0_THRESHOLD`); restore it after. For
    batch loops that allocate a few short-lived containers per record (decoded JSON rows, turn
    lists), which reference counting frees: a young collection every 700 allocations would walk
    the batch held alive at the time, again and again. No collect, no freeze: cheap per call."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GEN0_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
