"""The Ray driver: start or join Ray, map a `RangeTask` over the input ranges, write in order.

What runs where:
- driver (this process): format detection on each file's first rows (as the local reader does),
  the range plan (one newline-counting scan per JSONL file), and the writing of `--out`, the
  rejects and the manifest through the command's `CommandRun` — so they are the local engine's;
- Ray workers: reading, JSON decoding, parsing, validation, the stage, rendering — all the CPU.

Order: Ray Data runs with `preserve_order`, and each task keeps its rows' order, so the output
and the rejects come out in input order — byte-identical to `--engine local` for convert,
validate, score and filter (filter's rejects: the same lines, batch order may differ). (The docs only promise the same record set and rejects, which is
what a cluster writing shards in parallel would give.)

The single output file is written by the driver, which caps throughput at roughly the driver's
write speed (about 100-200k records/s here). At cluster scale write `--out` as shards instead
(`Dataset.write_json`/`write_parquet` from the workers); see docs/ray.md.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

# the driver helpers both engines share; ray_dedup and ray_mix import them from here too
from curator.engine.driver import all_ranges, available_cpus, collect, detect_formats  # noqa: F401
from curator.engine.ranges import Range
from curator.engine.tasks import RangeTask, ReadSpec, WriteSpec
from curator.errors import UsageError
from curator.formats import DEFAULT_READ, ReadOptions

_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


def connect(address: str | None) -> Any:
    """The `ray` module, initialised: joined to `address`, or a local instance with one CPU per core.

    Workers get this checkout on their PYTHONPATH, so a local instance (and a cluster whose nodes
    share the path) runs the same code as the driver; other clusters need sft-curator installed
    on every node (`pip install 'sft-curator[ray]'`).
    """
    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'sft-curator[ray]'") from None
    if ray.is_initialized():
        return ray
    # the driver's working directory too: `python -m curator` imports a user filter (`module:function`)
    # from there, and local workers must find the same module
    env = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in (_PROJECT_ROOT, os.environ.get("PYTHONPATH"),
                                                                  os.getcwd()) if p)}}
    kw: dict[str, Any] = dict(runtime_env=env, logging_level=logging.ERROR, log_to_driver=False)
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=available_cpus(), include_dashboard=False, **kw)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise UsageError(f"cannot start or reach Ray{f' at {address}' if address else ''}: {e}") from None
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return ray


def dataset_of_ranges(ray: Any, ranges: list[Range]) -> Any:
    items = [{"range": orjson.dumps(r.to_dict())} for r in ranges]
    return ray.data.from_items(items, override_num_blocks=max(1, len(items)))


def results(ds: Any) -> Iterator[tuple[str, bytes]]:
    """(kind, data) pairs in input order."""
    for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
        yield from zip(batch.column("kind").to_pylist(), batch.column("data").to_pylist())


def run_stage(run: Any, inputs: list[Path], *, fmt: str | None, opts: ReadOptions = DEFAULT_READ,
              encoding: str | None = None, allow: Iterable[str] = (), stage: Any, address: str | None,
              out_format: str = "messages", write_opts: Any = None) -> Counter:
    """Run `stage` over `inputs` on Ray and write everything through `run` (a `CommandRun`).
    Returns the stage's counters summed over all tasks."""
    ray = connect(address)
    formats = detect_formats(inputs, fmt, opts, encoding, run.read_stats)
    spec = ReadSpec(formats=formats, opts=opts, encoding=encoding, allow=tuple(allow or ()))
    write = WriteSpec(out_format, write_opts) if run.writer is not None and write_opts is not None else (
        WriteSpec(out_format) if run.writer is not None else None)
    workers = int(ray.cluster_resources().get("CPU", 1))
    ranges = all_ranges(inputs, workers)
    ds = dataset_of_ranges(ray, ranges).map_batches(RangeTask(run.command, spec, stage, write), batch_size=1)
    return collect(run, results(ds))
