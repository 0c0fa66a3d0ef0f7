"""`curate eval PRED... -o eval.json [--html eval.html] [--badcases bad.jsonl] [--compare old.json]`:
task metrics from predictions (classification, extraction, math, generation) with intervals,
and `curate eval --arena DB -o arena.json`: the result of a blind A/B review."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import orjson
import typer

from curator.commands import _options as o
from curator.runner import CommandRun, usage_error, usage_guard


def register(app: typer.Typer) -> None:
    @app.command(name="eval")
    def eval_(
        inputs: Optional[list[Path]] = typer.Argument(None, help="Prediction files: `train generate` output, "
                                                      "LLaMA-Factory generated_predictions.jsonl, or rows with an "
                                                      "answer and a reference."),
        out: Path = typer.Option(..., "-o", "--out", help="eval.json to write (metrics, intervals, breakdowns)."),
        html: Optional[Path] = typer.Option(None, "--html", help="Also write an HTML report here."),
        badcases: Optional[Path] = typer.Option(None, "--badcases", help="Write the wrong cases here (JSONL) as a "
                                                "review queue: curate review BAD.jsonl."),
        task: str = typer.Option("auto", "--task", help="auto (per record), classification, extraction, generation, math."),
        synonyms: Optional[Path] = typer.Option(None, "--synonyms", help="YAML {label: [synonym, ...]} folded "
                                                "together before classification metrics."),
        segment: str = typer.Option("char", "--segment", help="Generation tokens: char (each CJK character) or jieba."),
        min_rouge: float = typer.Option(0.3, "--min-rouge", help="Generation answers below this ROUGE-L are badcases."),
        bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for intervals (0 = none)."),
        confidence: float = typer.Option(0.95, "--confidence", help="Interval level."),
        seed: int = typer.Option(0, "--seed"),
        compare: Optional[Path] = typer.Option(None, "--compare", help="Another eval.json: print deltas with intervals."),
        arena: Optional[Path] = typer.Option(None, "--arena", help="A `curate review --compare` decision DB: win rate, "
                                             "judge agreement, annotator agreement."),
        judge: Optional[str] = typer.Option(None, "--judge", help="With --arena: a pairwise judge rubric run on the "
                                            "same pairs (both orders), e.g. pairwise_helpfulness."),
        judge_model: Optional[str] = o.JUDGE_MODEL,
        judge_base_url: Optional[str] = o.JUDGE_BASE_URL,
        judge_api_key_env: str = o.JUDGE_KEY_ENV,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
    ) -> None:
        """Measure model answers against references: accuracy and per-label P/R/F1 (classification), field
        P/R/F1 (JSON extraction), final-answer accuracy (math), ROUGE-L/BLEU (generation), with bootstrap
        intervals, per-source/per-tag breakdowns, badcases and before/after comparison."""
        from curator.atomic import atomic_open
        from curator.io import RecordWriter
        from curator.manifest import write_manifest
        from curator.rejects import RejectSink, manifest_path, rejects_path

        if arena is not None:
            if inputs:
                usage_error("curate eval --arena DB -o arena.json takes no prediction files")
            from curator.review.arena_eval import arena_command

            raise typer.Exit(arena_command(arena, out, judge=judge, judge_model=judge_model,
                                           judge_base_url=judge_base_url, judge_key_env=judge_api_key_env))
        if judge:
            usage_error("--judge goes with --arena DB; for a judge score on generation answers run "
                        "curate score PRED --rubric NAME first (curate eval reads meta.scores)")
        if not inputs:
            usage_error("curate eval PRED.jsonl -o eval.json: no prediction file given")
        from curator.evaluate.run import EvalConfig

        with usage_guard():
            o.check_inputs(inputs)
            cfg = EvalConfig(task=task, segment=segment, min_rouge=min_rouge, bootstrap=bootstrap,
                             confidence=confidence, seed=seed)
            _check_outputs(inputs, [p for p in (out, html, badcases) if p is not None])
            from curator.evaluate.labels import load_synonyms

            label_map = load_synonyms(synonyms)
            other = _load_eval(compare) if compare else None
            if segment == "jieba":
                from curator.evaluate.textsim import tokenizer

                tokenizer("jieba")
        params = dict(inputs=[str(p) for p in inputs], out=str(out), html=str(html) if html else None,
                      badcases=str(badcases) if badcases else None, task=task, synonyms=str(synonyms) if synonyms else None,
                      segment=segment, min_rouge=min_rouge, bootstrap=bootstrap, confidence=confidence, seed=seed,
                      compare=str(compare) if compare else None)
        run = CommandRun("eval", out=None, params=params, config=cfg, inputs=inputs, max_error_rate=max_error_rate, quiet=True)
        # Rows that are not examples are rejects of eval.json (no record file is this command's output).
        run.rejects = RejectSink(rejects_path(out), stage="eval")
        with run:
            from curator.evaluate.run import badcase_row, evaluate, load_examples

            examples = load_examples(inputs, run.rejects, run.read_stats, task)
            result, wrong = evaluate(examples, cfg, label_map)
            if badcases:
                with RecordWriter(badcases, "messages", rejects=run.rejects) as bw:
                    for ex, t, detail in wrong:
                        bw.write_row(badcase_row(ex, t, detail))
                result["badcases"] = {"path": str(badcases), "count": len(wrong)}
            from curator import __version__

            result = {"version": __version__, "inputs": [str(p) for p in inputs], **result, "rejected": len(run.rejects),
                      "rejected_by_reason": dict(run.rejects.counts)}
            if other is not None:
                from curator.evaluate.compare import compare as do_compare

                result["compare"] = {"other": str(compare), "tasks": do_compare(result, other, confidence)}
            with atomic_open(out, "wb") as fh:
                fh.write(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
            if html:
                from curator.evaluate.html import render

                with atomic_open(html, "wb") as fh:
                    fh.write(render(result, "Evaluation: " + ", ".join(p.name for p in inputs)).encode("utf-8"))
        if run.manifest:  # the body finished: the manifest (counts: in = evaluated + rejected) is the commit record
            c = run.manifest["counts"]
            c["out"] = result["records"]
            c["balanced"] = c["in"] == c["out"] + c["rejected"]
            run.manifest["outputs"] = {"eval": str(out), "rejects": str(rejects_path(out)),
                                       **({"html": str(html)} if html else {}),
                                       **({"badcases": str(badcases)} if badcases else {})}
            write_manifest(manifest_path(out), run.manifest)
        if run.exit_code == 2 or run.exit_code == 130:
            raise typer.Exit(run.exit_code)
        from curator.evaluate.summary import print_summary

        print_summary(result, run, out, html)
        raise typer.Exit(run.exit_code)


def _check_outputs(inputs: list[Path], outputs: list[Path]) -> None:
    from curator.errors import UsageError

    seen = {Path(p).resolve() for p in inputs}
    for p in outputs:
        r = Path(p).resolve()
        if r in seen:
            raise UsageError(f"{p}: would overwrite an input or another output of this command — choose another name")
        seen.add(r)


def _load_eval(path: Path) -> dict:
    from curator.errors import UsageError

    if not path.is_file():
        raise UsageError(f"--compare {path}: no such file")
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise UsageError(f"--compare {path}: not JSON ({e})") from None
    if not isinstance(data, dict) or "tasks" not in data:
        raise UsageError(f"--compare {path}: not an eval.json written by curate eval (no 'tasks')")
    return data
