"""How many CPUs this process may use: one function, for the engines' pools and the threads of
dedup's plan (`minhash.pair_similarity`), with no imports of its own so anything can use it."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """The CPUs this process is allowed to run on (its affinity mask on Linux, else all of them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
