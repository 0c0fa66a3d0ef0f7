"""Engines that run a stage: `local` (this process, or a pool of processes on this machine:
`local.py`) and `ray` (Ray Data). A command calls `run_stage(engine, ...)` for a per-record stage, or
`run_whole_stage(engine, run, stage)` for a stage that must see the whole dataset, and never
branches on the engine itself.

The Ray engine never has a second implementation of a stage. It cuts the inputs into ranges
(`ranges.py`), and each Ray task runs the very functions the local path runs — `parse_rows`,
the format's `render`, the stage's pure per-batch function — over one range (`tasks.py`). The
driver (`ray_run.py`) collects the results in input order and writes them through the command's
own `CommandRun`, so rejects, manifest and counts are the local engine's. Dedup has its own
driver (`ray_dedup.py`) because it must see the whole dataset, and mix (`ray_mix.py`) because its
sampling plan needs every source's index before any record is written.

Nothing here imports ray at module top: `import curator` stays light, and the `[ray]` extra is
only needed when `--engine ray` is used.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Protocol

ENGINES = ("local", "ray")  # the values of --engine


def run_stage(engine: str, run: Any, inputs: list[Path], *, address: str | None = None, workers: int | None = None,
              **kw: Any) -> Counter:
    """Run a per-record stage (`curator.engine.tasks`) over `inputs` on `engine`, writing through
    `run` (a `CommandRun`); returns the stage's counters. `address` is Ray's, `workers` the local
    pool's (None: auto)."""
    if engine == "ray":
        from curator.engine.ray_run import run_stage as on_ray

        return on_ray(run, inputs, address=address, **kw)
    from curator.engine.local import run_stage as locally

    return locally(run, inputs, workers=workers, **kw)



class WholeStage(Protocol):
    """A stage that must see every record before it writes one (dedup's plan, mix's sampling
    plan) or keeps state on the driver (score's judge client and its cache). Its own module holds
    the local body (`run_local`) and everything both engines share (planning, reject wording,
    manifest entries); `ray_driver` names the module in `curator/engine/` whose
    `run_whole(run, stage, address)` runs it on Ray, mapping the same per-batch functions over
    ranges. A name, not an import: the driver imports the stage's shared code, the stage never
    imports the engine, so there is no cycle. Why not one object for both engines, as
    `run_stage` has: the whole-dataset plan happens between the two passes, and where its inputs
    are gathered (this process, or arrays collected from Ray tasks) is the engine's business."""

    ray_driver: ClassVar[str]

    def run_local(self, run: Any) -> Any: ...


def run_whole_stage(engine: str, run: Any, stage: WholeStage, *, address: str | None = None) -> Any:
    """Run a whole-dataset stage on `engine`, writing through `run`; returns what the stage returns."""
    if engine == "ray":
        import importlib

        if not stage.ray_driver.startswith("curator.engine.ray_"):
            raise ValueError(f"{type(stage).__name__}.ray_driver must be a curator.engine.ray_* module")
        return importlib.import_module(stage.ray_driver).run_whole(run, stage, address)
    return stage.run_local(run)
