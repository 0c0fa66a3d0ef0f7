"""`curate score --engine ray`: the per-record `Score` task over ranges (`ray_run.run_stage`),
then the same manifest entries as the local body (`ScoreStage.finish`).

Only rule rubrics run here (`curator.score.check_rubrics_for_engine` refuses the rest before the
run starts): each Ray task loads them itself from their names or resolved file paths.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any


def run_whole(run: Any, stage: Any, address: str | None) -> Counter:
    """`ScoreStage` on Ray (`curator.engine.run_whole_stage`); returns the verdict counts."""
    from curator.engine.ray_run import run_stage
    from curator.engine.tasks import Score

    refs = tuple(str(Path(r).resolve()) if Path(r).is_file() else r for r in stage.refs)
    counts = run_stage(run, stage.inputs, fmt=stage.from_, opts=stage.ropts, encoding=stage.encoding,
                       allow=stage.allow, stage=Score(refs, stage.batch_size), address=address)
    stage.finish(run, counts)
    return counts
