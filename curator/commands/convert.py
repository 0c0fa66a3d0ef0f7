"""`curate convert IN... -o OUT`: any supported format in, one format out; shards merged."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def convert(
        inputs: list[Path] = typer.Argument(..., help="Input files (shards are merged in the order given)."),
        out: Path = o.OUT,
        from_: Optional[str] = o.FROM,
        to: str = o.TO,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        reasoning: str = o.REASONING,
        think_tags: str = o.THINK_TAGS,
        strip_meta: bool = o.STRIP_META,
        allow: Optional[list[str]] = o.ALLOW,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
        workers: str = o.WORKERS,
    ) -> None:
        """Convert between Alpaca, ShareGPT, OpenAI/Ark messages and prompt/completion, validating every row."""
        params = dict(inputs=[str(p) for p in inputs], out=str(out), from_=from_, to=to, mapping=mapping,
                      encoding=encoding, reasoning=reasoning, strip_meta=strip_meta, allow=allow, engine=engine,
                      workers=workers)
        with usage_guard():
            o.check_engine(engine)
            o.check_inputs(inputs)
            n_workers = o.workers(workers)
            ropts = o.read_options(mapping, think_tags)
            wopts = o.write_options(reasoning, strip_meta, think_tags)
            run = CommandRun("convert", out=out, params=params, inputs=inputs, max_error_rate=max_error_rate,
                             out_format=to, write_opts=wopts)
        with run:
            from curator.engine import run_stage
            from curator.engine.tasks import Lineage

            run_stage(engine, run, inputs, fmt=from_, opts=ropts, encoding=encoding, allow=allow or (),
                      stage=Lineage("convert"), address=ray_address, workers=n_workers, out_format=to,
                      write_opts=wopts)
        raise typer.Exit(run.exit_code)
