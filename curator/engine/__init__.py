"""Engines that run a stage: `local` (the command's own loop) and `ray` (Ray Data).

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
