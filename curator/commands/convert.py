"""`curate convert IN... -o OUT`: any supported format in, one format out; shards merged."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.errors import UsageError
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
        fill: Optional[list[str]] = typer.Option(None, "--fill", help="Fill a {{NAME}} placeholder, repeatable: "
                                                 "--fill name=小助手 --fill author=某团队 (identity.json-style data); "
                                                 "rows with placeholders left unfilled are still rejected."),
        dataset_info: Optional[str] = typer.Option(None, "--dataset-info", metavar="NAME", help="Also write "
                                                   "LLaMA-Factory's dataset_info.json entry NAME beside OUT (with "
                                                   "--to alpaca, sharegpt or messages), so OUT trains there unchanged."),
    ) -> None:
        """Convert between Alpaca, ShareGPT, OpenAI/Ark messages and prompt/completion, validating every row."""
        params = dict(inputs=[str(p) for p in inputs], out=str(out), from_=from_, to=to, mapping=mapping,
                      encoding=encoding, reasoning=reasoning, strip_meta=strip_meta, allow=allow, engine=engine,
                      workers=workers, fill=fill, dataset_info=dataset_info)
        with usage_guard():
            from curator import llamafactory
            from curator.fill import Filler, parse_fills

            filler = Filler(parse_fills(fill)) if fill else None
            if filler is not None and engine != "local":
                raise UsageError("--fill runs with --engine local")
            if dataset_info is not None:
                llamafactory.check(out, dataset_info, to)
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

            if filler is None:
                run_stage(engine, run, inputs, fmt=from_, opts=ropts, encoding=encoding, allow=allow or (),
                          stage=Lineage("convert"), address=ray_address, workers=n_workers, out_format=to,
                          write_opts=wopts)
            for path in (inputs if filler is not None else []):
                # With --fill (one local process), placeholders are checked after filling, so a
                # filled row passes and a placeholder nobody filled is still rejected.
                for conv in run.read(path, from_, opts=ropts, encoding=encoding, allow={*(allow or ()), "placeholder"}):
                    filler(conv)
                    left = unfilled(conv) if "placeholder" not in (allow or ()) else None
                    if left is not None:
                        run.rejects.reject(conv, left.code, left.sentence())
                        continue
                    conv.add_lineage("convert")
                    run.write(conv)
            if filler is not None:
                run.extra["fill"] = {"names": sorted(filler.values), "rows_filled": filler.filled_rows,
                                     "replacements": filler.replacements}
        if dataset_info is not None and run.exit_code == 0 and run.manifest:
            from curator.runner import err_console

            err_console.print(f"dataset_info: {llamafactory.write(out, dataset_info, to)} [{dataset_info}]",
                              soft_wrap=True, markup=False)
        raise typer.Exit(run.exit_code)


def unfilled(conv):
    """The first `placeholder` problem left after filling, or None."""
    from curator.validate import check

    return next((p for p in check(conv) if p.code == "placeholder"), None)
