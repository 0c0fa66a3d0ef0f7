"""The collector settings distill runs under: cycles are still collected, and everything is
restored afterwards so a library caller's process is left as it was."""

from __future__ import annotations

import gc
import weakref

from curator.gc_tuning import GEN0_THRESHOLD, throughput_gc


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_freezes_raises_threshold_still_collects_cycles_and_restores():
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with throughput_gc():
        assert gc.get_threshold()[0] == GEN0_THRESHOLD
        assert gc.get_freeze_count() > frozen
        ref = weakref.ref(_Node())
        gc.collect()
        assert ref() is None
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
