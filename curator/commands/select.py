"""`curate select IN... -o OUT --budget N | --fraction F`: keep the best, most diverse records.

Quality from meta.scores (any key, the mean, or a weighted sum; IFD/perplexity from a local
model with --score-model), diversity from embeddings (DEITA greedy or k-center), fair quotas per
group, decontamination against eval files. Unselected records go to <out>.unselected.jsonl with
the reason. The logic lives in curator.select / curator.select_run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curator.commands import _options as o
from curator.runner import CommandRun, usage_guard


def register(app: typer.Typer) -> None:
    @app.command()
    def select(
        inputs: list[Path] = typer.Argument(..., help="Input files (selected from together)."),
        out: Path = o.OUT,
        budget: Optional[int] = typer.Option(None, "--budget", "-n", help="Keep this many records."),
        fraction: Optional[float] = typer.Option(None, "--fraction", help="Or keep this share of the candidates (0..1]."),
        method: str = typer.Option("deita", "--method", help="deita (best score first, skip what is too close to "
                                   "anything kept), kcenter (farthest-first coverage), score (top-N, no diversity)."),
        threshold: float = typer.Option(0.9, "--threshold", help="deita: a record whose cosine similarity to a kept "
                                        "one is above this is too_close."),
        score: Optional[str] = typer.Option(None, "--score", help="Quality: a meta.scores key, 'mean' (default: mean "
                                            "of the numeric scores), or a weighted sum like 0.7*helpfulness+0.3*ifd."),
        score_model: Optional[Path] = typer.Option(None, "--score-model", help="Local causal LM folder: compute "
                                                   "meta.scores.ifd and meta.scores.ppl before selecting."),
        balance: Optional[str] = typer.Option(None, "--balance", help="Fair quotas per value of a meta field: "
                                              "meta.tags, meta.source, task (= meta.task), any meta.X."),
        against: Optional[list[str]] = typer.Option(None, "--against", help="Eval/benchmark files (comma-separated "
                                                    "or repeated): records whose prompt overlaps one are never selected."),
        ngram: int = typer.Option(13, "--ngram", help="Decontamination n-gram length (words; CJK characters)."),
        embedder: str = typer.Option("lexical", "--embedder", help="lexical (offline default), wordllama, "
                                     "http:MODEL (/v1/embeddings at --embed-base-url), or a local model folder."),
        embed_on: str = typer.Option("prompt", "--embed-on", help="What is embedded: prompt or conversation."),
        embed_base_url: Optional[str] = typer.Option(None, "--embed-base-url", help="OpenAI-compatible base URL for "
                                                     "http:MODEL (default: $OPENAI_BASE_URL)."),
        embed_api_key_env: str = typer.Option("OPENAI_API_KEY", "--embed-api-key-env", help="Environment variable "
                                              "holding the embedding server's key (never written anywhere)."),
        seed: int = typer.Option(0, "--seed", help="Order among records with equal scores (or no scores)."),
        batch_size: int = typer.Option(32, "--batch-size", help="Texts per embedding request / model batch."),
        from_: Optional[str] = o.FROM,
        mapping: Optional[list[str]] = o.MAP,
        encoding: Optional[str] = o.ENCODING,
        to: str = o.TO,
        max_error_rate: Optional[float] = o.MAX_ERROR_RATE,
        engine: str = o.ENGINE,
        ray_address: Optional[str] = o.RAY_ADDRESS,
    ) -> None:
        """Keep the best, most diverse N records; every other record is written with the reason it was left out."""
        import os

        from curator.embedders import make_embedder
        from curator.errors import UsageError
        from curator.select import SelectConfig
        from curator.select_run import run_select
        from curator.rejects import RejectSink

        against_files = [a.strip() for item in (against or []) for a in item.split(",") if a.strip()]
        with usage_guard():
            o.check_engine(engine)
            o.check_inputs(inputs)
            o.check_inputs([Path(a) for a in against_files])
            cfg = SelectConfig(budget=budget, fraction=fraction, method=method, threshold=threshold, score=score,
                               balance=balance, embed_on=embed_on, against=against_files, ngram=ngram, seed=seed)
            if batch_size < 1:
                raise UsageError("--batch-size must be >= 1")
            emb = make_embedder(embedder, base_url=embed_base_url or os.environ.get("OPENAI_BASE_URL"),
                                api_key_env=embed_api_key_env, batch_size=batch_size)
            from curator.embed_ray import engine_note, for_engine

            emb = for_engine(emb, engine, ray_address)  # --engine ray: the embedding mapped over Ray
            score_fn = None
            if score_model is not None:
                from curator.select_lm import LMScorer

                score_fn = LMScorer(score_model, batch_size=batch_size)
            ropts = o.read_options(mapping)
            # --map as the function got it: None when not given, where Click binds []
            run = CommandRun("select", out=out, params=dict(against=against_files, mapping=mapping), config=cfg,
                             inputs=[*inputs, *map(Path, against_files)],
                             max_error_rate=max_error_rate, out_format=to)
        with run:
            index = None
            if against_files:
                from curator.decontam import load_index
                from curator.io import read_records

                quiet = RejectSink(None)
                index = load_index([Path(a) for a in against_files],
                                   lambda p: read_records(p, None, encoding=encoding, rejects=quiet), n=ngram)
                run.extra["against_prompts"] = index.prompts

            run_select(run, lambda: run.read_all(inputs, from_, opts=ropts, encoding=encoding),
                       lambda: run.reread_all(inputs, from_, opts=ropts, encoding=encoding), cfg, emb,
                       against_index=index, score_fn=score_fn)
            run.extra["select"].update(engine_note(emb, engine))
        raise typer.Exit(run.exit_code)
