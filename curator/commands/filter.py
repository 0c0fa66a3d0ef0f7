"""`curate filter IN... -o OUT`: quality filters from a filter-chain YAML (`--recipe`) or flags; drops go to the rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard

def _list_filters() -> str:
    from curator.filters import REGISTRY, param_help

    lines = []
    for name, cls in sorted(REGISTRY.items(), key=lambda kv: (kv[1].cost, kv[0])):
        lines.append(f"{name}  (cost {cls.cost}; drop codes: {', '.join(cls.codes)})")
        for pname, tp, default, help_ in param_help(cls):
            if isinstance(default, (list, tuple)) and len(str(default)) >= 70:
                # Long lists (refusal phrases, languages…) are shown in full, wrapped under the name.
                lines.append(f"    {pname}: {tp} = [{len(default)} items]  — {help_}")
                row = ""
                for item in (repr(v) for v in default):  # wrap between items, never inside a phrase
                    if row and len(row) + len(item) > 100:
                        lines.append(" " * 8 + row.rstrip())
                        row = ""
                    row += item + ", "
                lines.append(" " * 8 + row.rstrip(", "))
            else:
                lines.append(f"    {pname}: {tp} = {default!r}  — {help_}")
    return "\n".join(lines)


def _parse_score(spec: Optional[str]) -> dict[str, Any] | None:
    from curator.errors import UsageError

    if not spec:
        return None
    key, sep, val = spec.partition("=")
    try:
        if sep and key.strip():
            return {"key": key.strip(), "min": float(val)}
    except ValueError:
        pass
    raise UsageError(f"--min-score {spec!r}: expected KEY=NUMBER, e.g. --min-score helpfulness=3")


def _stage_items(items: list) -> list:
    """The filter-chain items as the stage gets them: local paths (a tokenizer) made absolute, since
    Ray workers may not share this working directory."""
    out = []
    for name, params in items:
        params = dict(params)
        tok = params.get("tokenizer")
        if isinstance(tok, str) and Path(tok).exists():
            params["tokenizer"] = str(Path(tok).resolve())
        out.append((name, params))
    return out


def register(app: typer.Typer) -> None:
    @app.command("filter")
    def filter_(
        inputs: Optional[list[Path]] = typer.Argument(None, help="Input files (shards are read in the order given)."),
        out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output file (.jsonl, .jsonl.gz, .json, .parquet, "
                                           "or a folder)."),
        recipe: Optional[Path] = typer.Option(None, "--recipe", help="YAML list of filters with parameters "
                                              "(default: the built-in SFT-safe recipe; see --list)."),
        lang: Optional[str] = typer.Option(None, "--lang", help="Allowed languages for user and assistant text, "
                                           "comma-separated (adds the language filter), e.g. en,zh."),
        min_chars: Optional[int] = typer.Option(None, "--min-chars", help="Each user/assistant message at least N chars."),
        max_chars: Optional[int] = typer.Option(None, "--max-chars", help="Each user/assistant message at most N chars."),
        tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="Local tokenizer folder for --min/--max-tokens."),
        min_tokens: Optional[int] = typer.Option(None, "--min-tokens", help="Each user/assistant message at least N tokens."),
        max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Each user/assistant message at most N tokens."),
        pii: Optional[str] = typer.Option(None, "--pii", help="drop or mask e-mails, phone numbers, Chinese ID numbers."),
        min_score: Optional[str] = typer.Option(None, "--min-score", help="KEY=N: keep records with meta.scores.KEY >= N."),
        require_reasoning: Optional[str] = typer.Option(None, "--require-reasoning",
                                                        help="present or absent: reasoning must (not) be there."),
        recheck_reviewed: bool = typer.Option(False, "--recheck-reviewed", help="Also filter records a reviewer "
                                              "accepted (meta.review.status = accepted); by default they are kept "
                                              "and counted apart."),
        list_: bool = typer.Option(False, "--list", help="Print every filter with its parameters and defaults, then exit."),
        from_: Optional[str] = o.FROM,
        to: str = o.TO,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        reasoning: str = o.REASONING,
        think_tags: str = o.THINK_TAGS,
        allow: Optional[list[str]] = o.ALLOW,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
        workers: str = o.WORKERS,
    ) -> None:
        """Drop low-quality records (length, language, repetition, refusals, placeholders, broken text, code
        fences, JSON answers, turns, PII, scores, reasoning, answer match, your own function)."""
        if list_:
            typer.echo(_list_filters())
            raise typer.Exit(0)
        with usage_guard():
            from curator.errors import UsageError
            from curator.filters import DEFAULT_CHAIN, load_chain, build_chain, set_param

            o.check_engine(engine)
            n_workers = o.workers(workers)
            if not inputs:
                raise UsageError("give at least one input file (or --list to see the filters)")
            if out is None:
                raise UsageError("missing -o/--out: where to write the kept records")
            o.check_inputs(inputs)
            items = load_chain(recipe) if recipe else [(n, dict(p)) for n, p in DEFAULT_CHAIN]
            set_param(items, "length", min_chars=min_chars, max_chars=max_chars, tokenizer=tokenizer,
                      min_tokens=min_tokens, max_tokens=max_tokens)
            if lang is not None:
                langs = [x.strip() for x in lang.split(",") if x.strip()]
                if not langs:
                    raise UsageError("--lang: give language codes such as en,zh")
                set_param(items, "language", allowed=langs)
            if pii is not None:
                set_param(items, "pii", action=pii)
            score = _parse_score(min_score)
            if score:
                set_param(items, "score", **score)
            if require_reasoning is not None:
                set_param(items, "reasoning", require=require_reasoning)
            chain = build_chain(items, str(recipe) if recipe else "filters")
            ropts = o.read_options(mapping, think_tags)
            wopts = o.write_options(reasoning, False, think_tags)
            params = dict(inputs=[str(p) for p in inputs], out=str(out), recipe=str(recipe) if recipe else None,
                          from_=from_, to=to, mapping=mapping, encoding=encoding, reasoning=reasoning, allow=allow,
                          filters=chain.describe(), engine=engine, workers=workers, recheck_reviewed=recheck_reviewed)
            run = CommandRun("filter", out=out, params=params, inputs=inputs, max_error_rate=max_error_rate,
                             out_format=to, write_opts=wopts)
        masked = kept_reviewed = 0
        with run:
            import orjson

            from curator.engine import run_stage
            from curator.engine.tasks import Filter

            stage = Filter(orjson.dumps(_stage_items(items)), str(recipe) if recipe else "filters",
                           recheck_reviewed=recheck_reviewed)
            counts = run_stage(engine, run, inputs, fmt=from_, opts=ropts, encoding=encoding, allow=allow or (),
                               stage=stage, address=ray_address, workers=n_workers, out_format=to, write_opts=wopts)
            dropped_by, codes_by, masked = Filter.tally(counts)
            run.extra["filters"] = [{"filter": label, "dropped": dropped_by.get(label, 0),
                                     "by_code": dict(sorted(codes_by.get(label, {}).items()))} for label in chain.labels]
            if masked:
                run.extra["pii_masked_records"] = masked
            kept_reviewed = counts.get("kept_reviewed", 0)
            run.extra["kept_reviewed"] = kept_reviewed
        from curator.runner import err_console

        if kept_reviewed:
            err_console.print(f"  reviewed: {kept_reviewed} record(s) accepted in review kept without filtering "
                              f"(--recheck-reviewed to filter them too)")
        if masked:
            err_console.print(f"  pii: masked PII in {masked} kept record(s) (see meta.pii_masked)")
        raise typer.Exit(run.exit_code)
